"""Dense backward warping from sparse point correspondences.

The target points are triangulated (Delaunay) and each output pixel takes its source position
by barycentric interpolation inside its triangle: a continuous, piecewise-affine map, so no
seams. The map is evaluated on a coarse grid and upsampled, at full resolution where features
move against their surroundings (the eyes), then applied with one ``cv2.remap``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from matplotlib.tri import Triangulation
from scipy.spatial import Delaunay


@dataclass(frozen=True)
class PixelBox:
    """A pixel rectangle ``[x0, x1) x [y0, y1)``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def around(cls, xy: np.ndarray, image_size: tuple[int, int],
               margin: float = 0.0) -> "PixelBox":
        """The box holding points ``xy`` (N, 2) and ``margin`` pixels more, in the image."""
        h, w = image_size
        x0, y0 = np.floor(xy.min(axis=0) - margin).astype(int)
        x1, y1 = np.ceil(xy.max(axis=0) + margin).astype(int) + 1
        return cls(max(0, x0), max(0, y0), min(w, x1), min(h, y1))

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def size(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0


def backward_map(
    src: np.ndarray, dst: np.ndarray, region: PixelBox, step: float,
    detail: tuple[PixelBox, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel of ``region`` in the output, where to sample the source image.

    ``src`` and ``dst`` are (N, 2) corresponding points (source position, output position).
    The map is evaluated every ``step`` pixels and upsampled, and at every pixel inside the
    ``detail`` boxes (the eyes: an iris moves more than its own size against the lids around
    it, which a coarse grid would average away). Pixels outside the triangulated
    hull do not move.
    """
    h, w = region.size
    step = max(1.0, step)
    gh, gw = max(2, int(round(h / step))), max(2, int(round(w / step)))
    # Grid positions chosen so that cv2.resize(gw -> w) maps grid samples exactly onto them.
    gx = region.x0 + (np.arange(gw) + 0.5) * (w / gw) - 0.5
    gy = region.y0 + (np.arange(gh) + 0.5) * (h / gh) - 0.5
    mesh = _Mesh(dst)
    shift = mesh.interpolate(src - dst, gx, gy)
    if (gh, gw) != (h, w):
        shift = cv2.resize(shift, (w, h), interpolation=cv2.INTER_LINEAR)
    for box in detail:
        x0, y0 = max(box.x0, region.x0), max(box.y0, region.y0)
        x1, y1 = min(box.x1, region.x1), min(box.y1, region.y1)
        if x1 > x0 and y1 > y0:
            shift[y0 - region.y0:y1 - region.y0, x0 - region.x0:x1 - region.x0] = \
                mesh.interpolate(src - dst, np.arange(x0, x1, dtype=np.float64),
                                 np.arange(y0, y1, dtype=np.float64))
    xs, ys = np.meshgrid(np.arange(region.x0, region.x1, dtype=np.float32),
                         np.arange(region.y0, region.y1, dtype=np.float32))
    return xs + shift[..., 0], ys + shift[..., 1]


class _Mesh:
    """The Delaunay triangulation of the output points, with a point locator.

    Matplotlib's trapezoid-map locator rather than SciPy's ``find_simplex``: the latter first
    computes every simplex's barycentric transform one LAPACK call at a time, which cost more
    than the rest of a frame's warp.
    """

    def __init__(self, points: np.ndarray):
        self.simplices = Delaunay(points).simplices
        self.locate = Triangulation(points[:, 0], points[:, 1], self.simplices).get_trifinder()
        a, b, c = (points[self.simplices[:, k]] for k in range(3))
        e1, e2 = b - a, c - a
        det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        det = np.where(np.abs(det) < 1e-12, 1e-12, det)
        # Rows map a point's offset from vertex a to its weights on vertices b and c.
        self.inverse = np.stack([np.c_[e2[:, 1], -e2[:, 0]], np.c_[-e1[:, 1], e1[:, 0]]],
                                axis=1) / det[:, None, None]
        self.origin = a

    def interpolate(self, values: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
        """(len(gy), len(gx), 2) float32: the piecewise-linear interpolation of ``values``
        (one (2,) per point) at the grid ``gx`` x ``gy``; zero outside the hull."""
        x, y = np.meshgrid(gx, gy)
        simplex = self.locate(x.ravel(), y.ravel())
        inside = simplex >= 0
        s = simplex[inside]
        offset = np.c_[x.ravel()[inside], y.ravel()[inside]] - self.origin[s]
        wb, wc = np.einsum("mij,mj->im", self.inverse[s], offset)
        corners = values[self.simplices[s]]  # (m, 3, 2)
        out = np.zeros((x.size, 2))
        out[inside] = ((1.0 - wb - wc)[:, None] * corners[:, 0] + wb[:, None] * corners[:, 1]
                       + wc[:, None] * corners[:, 2])
        return out.reshape(len(gy), len(gx), 2).astype(np.float32)


def remap_region(
    image: np.ndarray, region: PixelBox, map_x: np.ndarray, map_y: np.ndarray
) -> np.ndarray:
    """``image`` with ``region`` resampled through the map; pixels outside it are untouched."""
    out = image.copy()
    out[region.slices] = cv2.remap(
        image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    return out
