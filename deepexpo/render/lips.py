"""Lips redrawn as bands of the source's own lips over an opened mouth.

A warp opening a mouth wide stretches the lips with the mesh around them: the lip between a
landmark and its neighbours becomes a streaky ring round the opening, its outer edge is wherever
the mesh folds (hard, and stair-stepped where the fold is sampled pixel by pixel). So each lip
is redrawn as a band laid along the target lip: smooth curves through its inner and outer
contours, each point across the band taken from the same place across the source's lip (its
own texture and edge, and a little skin beyond it; the target lip keeps about its thickness,
:func:`~deepexpo.motion.mouth.shape_mouth`), fading into the warp over a soft edge outside and
a narrower one at the opening, both scaled to the mouth. The bands of the two lips meet at the
corners, both read along the same line of the source there.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..face.canonical import canonical_face
from ..geometry.boxes import PixelBox
from .mesh_warp import backward_map

#: Output pixels between samples along a lip.
ALONG_PX = 1.5
#: Samples across a lip, inner to outer contour.
ACROSS = 8
#: The soft inner edge (where the lip meets the opening), either side of it: this fraction of
#: the outer edge's width, at least :data:`MIN_INNER_EDGE_PX` (the same look at any size).
INNER_EDGE = 0.5
MIN_INNER_EDGE_PX = 0.75
#: A grid sheared this much is no set of rectangles (whose corners all lie on one circle):
#: its Delaunay triangles are the same in every cell.
_SHEAR = 0.3


def lip_contours(xy: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The upper and lower lip as (inner, outer) contours, each corner to corner with as
    many landmarks on each (point ``k`` of one faces point ``k`` of the other)."""
    canon = canonical_face()
    outer = canon.lip_loops[0]
    p = canon.points
    corners_y = p[canon.mouth_corners, 1].mean()
    outer_corners = outer[[np.argmin(p[outer, 0]), np.argmax(p[outer, 0])]]
    contours = []
    for inner, side in ((canon.inner_lip_upper, outer[p[outer, 1] < corners_y]),
                        (canon.inner_lip_lower, outer[p[outer, 1] > corners_y])):
        inner = np.r_[canon.mouth_corners[0], inner[np.argsort(p[inner, 0])],
                      canon.mouth_corners[1]]
        side = np.r_[outer_corners[0], side[np.argsort(p[side, 0])], outer_corners[1]]
        contours.append((xy[inner, :2], xy[side, :2]))
    return contours


def opening_outline(xy: np.ndarray) -> np.ndarray:
    """The mouth's opening as the lips' bands edge it: the curves through the inner contours
    of both lips, as a polygon (pixels)."""
    (upper, _), (lower, _) = lip_contours(xy)
    t = np.linspace(0.0, 1.0, int(np.clip(_length(upper) / ALONG_PX, 16, 2000)))
    return np.r_[_spline(upper, t), _spline(lower, t)[::-1]]


def draw_lips(out: np.ndarray, image: np.ndarray, source_xy: np.ndarray,
              target_xy: np.ndarray, edge_px: float) -> None:
    """Redraw (in place) both lips of ``out`` as bands of ``image``'s lips: from where
    ``source_xy`` has them to where ``target_xy`` does (landmarks, pixels), fading into ``out``
    over ``edge_px`` beyond their outer contour."""
    for (inner_s, outer_s), (inner_t, outer_t) in zip(lip_contours(source_xy),
                                                      lip_contours(target_xy)):
        _draw_band(out, image, (inner_s, outer_s), (inner_t, outer_t), max(1.0, edge_px))


def _draw_band(out: np.ndarray, image: np.ndarray, source: tuple[np.ndarray, np.ndarray],
               target: tuple[np.ndarray, np.ndarray], edge_px: float) -> None:
    inner_t, outer_t = target
    length = max(_length(inner_t), _length(outer_t))
    n = int(np.clip(length / ALONG_PX, 16, 2000))
    t = np.linspace(0.0, 1.0, n)
    inner_t, outer_t = _spline(inner_t, t), _spline(outer_t, t)
    inner_s, outer_s = (_spline(c, t) for c in source)
    thick = np.maximum(np.linalg.norm(outer_t - inner_t, axis=1), 1e-3)[None, :]
    # Across the lip (0 at its inner contour, 1 at its outer), per sample along it: half a
    # pixel into the opening, the lip, and the soft edge beyond it.
    inner_edge = max(MIN_INNER_EDGE_PX, INNER_EDGE * edge_px)
    rows = np.concatenate([-inner_edge / thick,
                           *(np.full_like(thick, k / (ACROSS - 1)) for k in range(ACROSS)),
                           1.0 + 0.5 * edge_px / thick, 1.0 + edge_px / thick])
    across = rows[..., None]
    dst = inner_t + across * (outer_t - inner_t)  # (rows, n, 2)
    src = inner_s + across * (outer_s - inner_s)
    # How much of the band shows: faded at the opening and beyond the outer contour. (Not at
    # the corners: the two lips' bands meet there, both read along the same line of the
    # source; the warp between them would show the fold where its lips met, stretched.)
    inside = rows * thick  # pixels from the inner contour
    alpha = np.clip(0.5 + inside / (2 * inner_edge), 0.0, 1.0) \
        * np.clip(1.0 - (rows - 1.0) * thick / edge_px, 0.0, 1.0)
    box = PixelBox.around(dst.reshape(-1, 2), out.shape[:2], 2)
    h, w = box.size
    if h < 2 or w < 2:
        return
    # Each output pixel's place on the band (row, sample), by the piecewise-linear map from
    # the band's grid to its target positions.
    i, j = np.mgrid[0:len(rows), 0:n].astype(np.float64)
    grid = np.c_[(j + _SHEAR * i).ravel(), i.ravel()]
    place = backward_map(grid, dst.reshape(-1, 2), box, 1.0)
    row = place[..., 1]
    sample = place[..., 0] - _SHEAR * row
    # (Outside the band the map is the identity.)
    covered = polygon_mask(np.r_[dst[0], dst[-1][::-1]] - [box.x0, box.y0], (h, w))
    values = np.dstack([src, alpha[..., None]]).astype(np.float32)  # (rows, n, 3)
    at = cv2.remap(values, sample.astype(np.float32), row.astype(np.float32),
                   cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lip = cv2.remap(image, at[..., 0], at[..., 1], cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT).astype(np.float32)
    weight = (at[..., 2] * covered)[..., None]
    view = out[box.slices]
    view[:] = np.clip(weight * lip + (1 - weight) * view, 0, 255).astype(np.uint8)


def _length(curve: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(curve, axis=0), axis=1).sum())


def _spline(points: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The Catmull-Rom curve through ``points`` (in order, evenly spaced in its parameter)
    at ``t`` in 0..1: a lip drawn through its landmarks with straight segments has corners."""
    p = np.r_[[2 * points[0] - points[1]], points, [2 * points[-1] - points[-2]]]
    k = len(points) - 1
    u = np.clip(t * k, 0.0, k - 1e-9)
    seg = u.astype(int)
    s = (u - seg)[:, None]
    p0, p1, p2, p3 = p[seg], p[seg + 1], p[seg + 2], p[seg + 3]
    return 0.5 * (2 * p1 + (p2 - p0) * s + (2 * p0 - 5 * p1 + 4 * p2 - p3) * s**2
                  + (3 * p1 - p0 - 3 * p2 + p3) * s**3)


def polygon_mask(polygon: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An anti-aliased float mask of a polygon given in the mask's pixel coordinates."""
    mask = np.zeros(size, np.float32)
    cv2.fillPoly(mask, [np.round(polygon * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA,
                 shift=2)
    return mask
