"""Dense backward warping from sparse point correspondences.

The target points are triangulated (Delaunay) and each output pixel takes its source position
by barycentric interpolation inside its triangle: a continuous, piecewise-affine map, so no
seams. The map is evaluated on a coarse grid and upsampled, then applied with one ``cv2.remap``.
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
    def around(cls, xy: np.ndarray, image_size: tuple[int, int]) -> "PixelBox":
        h, w = image_size
        x0, y0 = np.floor(xy.min(axis=0)).astype(int)
        x1, y1 = np.ceil(xy.max(axis=0)).astype(int) + 1
        return cls(max(0, x0), max(0, y0), min(w, x1), min(h, y1))

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def size(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0


def backward_map(
    src: np.ndarray, dst: np.ndarray, region: PixelBox, step: float
) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel of ``region`` in the output, where to sample the source image.

    ``src`` and ``dst`` are (N, 2) corresponding points (source position, output position).
    The map is evaluated every ``step`` pixels and upsampled. Pixels outside the triangulated
    hull do not move.
    """
    h, w = region.size
    step = max(1.0, step)
    gh, gw = max(2, int(round(h / step))), max(2, int(round(w / step)))
    # Grid positions chosen so that cv2.resize(gw -> w) maps grid samples exactly onto them.
    gx = region.x0 + (np.arange(gw) + 0.5) * (w / gw) - 0.5
    gy = region.y0 + (np.arange(gh) + 0.5) * (h / gh) - 0.5
    grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)

    triangles = Delaunay(dst).simplices
    # matplotlib's trapezoid map finds each grid point's triangle. (scipy's find_simplex first
    # inverts every triangle with LAPACK, whose threads spin: 5-10x slower on a busy machine.)
    found = Triangulation(dst[:, 0], dst[:, 1], triangles).get_trifinder()(grid[:, 0], grid[:, 1])
    inside = found >= 0
    corners = triangles[found[inside]]
    bary = barycentric(grid[inside], dst[corners])
    shift = np.zeros_like(grid)
    shift[inside] = np.einsum("mk,mkd->md", bary, (src - dst)[corners])

    shift = shift.reshape(gh, gw, 2).astype(np.float32)
    if (gh, gw) != (h, w):
        shift = cv2.resize(shift, (w, h), interpolation=cv2.INTER_LINEAR)
    xs, ys = np.meshgrid(np.arange(region.x0, region.x1, dtype=np.float32),
                         np.arange(region.y0, region.y1, dtype=np.float32))
    return xs + shift[..., 0], ys + shift[..., 1]


def barycentric(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(M, 3) barycentric coordinates of (M, 2) ``points`` in their (M, 3, 2) ``triangles``."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    (ux, uy), (vx, vy), (px, py) = (a - c).T, (b - c).T, (points - c).T
    det = ux * vy - vx * uy
    wa = (px * vy - vx * py) / det
    wb = (ux * py - px * uy) / det
    return np.stack([wa, wb, 1.0 - wa - wb], axis=1)


def remap_region(
    image: np.ndarray, region: PixelBox, map_x: np.ndarray, map_y: np.ndarray
) -> np.ndarray:
    """``image`` with ``region`` resampled through the map; pixels outside it are untouched."""
    out = image.copy()
    out[region.slices] = cv2.remap(
        image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    return out
