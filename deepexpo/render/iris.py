"""Moving an iris inside its eye.

As anchors of the warp's mesh, iris points pull the thin triangles that reach from them to the
lids across each other once the gaze shifts further than the iris is from the lids above and
below it (nearly always: the iris touches them): the iris smears into a zigzag. So the mesh
moves the eye with its lids and corners only, and each iris is then carried by a displacement
inside the eye opening: the whole shift on the iris, fading smoothly to none at the eye corners,
so the white of the eye narrows on one side and widens on the other as when an eye turns, and
faded out at the lids, under which the iris slides.

The lids' landmarks need not lie on the lids' edges as drawn: on a cartoon's eye, drawn larger
than MediaPipe reads it, they cross the iris inside the lash line. Cut there, the iris was split
along them (s7 by d19.jpg: a jagged dark step along its top, a sickle of its rim below). So the
move fades out over a band beyond the landmarks' outline, measured on the source (where the
mesh squeezes it into a few pixels of a widened eye): the iris moves whole wherever it shows,
and a lid's edge near it follows it a little, as real lids follow the gaze.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..geometry.boxes import PixelBox
from ..geometry.ramps import smoothstep

#: The most the displacement may fall per pixel along its own direction: under 1 the white of
#: the eye stretches without folding over itself.
_MAX_STRETCH = 0.8
#: The least white of the eye left between an iris and a corner, as a fraction of its radius.
_MIN_REACH = 0.3
#: How far an iris may move across the eye (up or down), as a fraction of its radius: further,
#: it would show the lid's skin from under the other lid.
_MAX_ACROSS = 0.25
#: How far beyond the landmarks' outline of the eye (in the source, as a fraction of the iris's
#: radius) its move fades out: as far as a drawn eye's iris may show beyond it.
_LID_BAND = 0.6


def carry_iris(source_xy: np.ndarray, region: PixelBox, opening: np.ndarray,
               source_opening: np.ndarray, iris_at: np.ndarray, iris_from: np.ndarray,
               radius: float) -> None:
    """Adds an iris's move to ``source_xy``, the backward map of ``region``
    (:func:`~deepexpo.render.mesh_warp.backward_map`, changed in place), so that the output's
    iris centre ``iris_at`` samples the source's ``iris_from`` and the disc of ``radius`` around
    it moves with it (as far as the eye has room for). ``opening`` and ``source_opening`` are
    the eye's outline in the output and in the source, in order around it.
    """
    corners = opening[[np.argmin(opening[:, 0]), np.argmax(opening[:, 0])]]
    axis = corners[1] - corners[0]
    width = float(np.linalg.norm(axis))
    band = _LID_BAND * radius
    # (Beyond the outline by twice the band: a widened eye stretches it.)
    box = PixelBox.around(opening, (region.y1, region.x1), margin=2.0 * band + 1.0)
    box = PixelBox(max(box.x0, region.x0), max(box.y0, region.y0), box.x1, box.y1)
    h, w = box.size
    if width < 4 or h < 3 or w < 3:
        return
    axis /= width
    # An iris sent further into a corner than it fits stops a little short of it (or where
    # the lids alone would take it, if that is further: about shift beyond its place).
    along = float((iris_at - corners.mean(axis=0)) @ axis)
    unmoved = along + float((iris_from - _sample(source_xy, iris_at - (region.x0, region.y0)))
                            @ axis)
    room = width / 2 - (1.0 + _MIN_REACH) * radius
    limit = (min(-room, unmoved), max(room, unmoved))
    iris_at = iris_at + axis * (np.clip(along, *limit) - along)
    reach = np.array([(iris_at - corners[0]) @ axis, (corners[1] - iris_at) @ axis]) - radius
    if reach.min() < 1.0:
        return

    ys, xs = np.mgrid[box.y0:box.y1, box.x0:box.x1].astype(np.float64)
    along = (xs - iris_at[0]) * axis[0] + (ys - iris_at[1]) * axis[1]
    beyond = np.maximum(np.hypot(xs - iris_at[0], ys - iris_at[1]) - radius, 0.0)
    top, left = box.y0 - region.y0, box.x0 - region.x0
    view = source_xy[top:top + h, left:left + w]
    # 1 on the iris, 0 at the corners, smooth
    weight = 1.0 - smoothstep(beyond / np.where(along < 0, reach[0], reach[1]))
    shift = iris_from - _sample(source_xy, iris_at - (region.x0, region.y0))
    across = np.array([-axis[1], axis[0]])
    shift -= across * (shift @ across - np.clip(shift @ across, -_MAX_ACROSS * radius,
                                                _MAX_ACROSS * radius))
    length = float(np.hypot(*shift))
    if length < 1e-3:
        return
    # The map samples p + weight(p) * shift: it folds where weight * |shift| falls by a pixel
    # or more per pixel along the shift (where it rises, the white is squeezed: no fold).
    grad_y, grad_x = np.gradient(weight)
    steepest = float(-(grad_x * shift[0] + grad_y * shift[1]).min())
    if steepest > _MAX_STRETCH:
        shift *= _MAX_STRETCH / steepest
    # (Faded at the lids after: a lid the iris slides under hides what it squeezes there.)
    weight *= _within_lids(view, source_opening, band)
    view += (weight[..., None] * shift).astype(np.float32)


def _within_lids(view: np.ndarray, outline: np.ndarray, band: float) -> np.ndarray:
    """How far inside the eye each pixel of ``view`` (a piece of the backward map) samples the
    source: 1 within its ``outline``, falling smoothly to 0 ``band`` pixels beyond it."""
    far = np.ceil(view.reshape(-1, 2).max(axis=0)).astype(int) + 2  # (as far as it samples)
    box = PixelBox.around(outline, (far[1], far[0]), margin=band + 2.0)
    inside = np.zeros(box.size, np.uint8)
    cv2.fillPoly(inside, [np.round((outline - (box.x0, box.y0)) * 16).astype(np.int32)], 1,
                 shift=4)
    beyond = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    within = (1.0 - smoothstep(beyond / max(band, 1e-6))).astype(np.float32)
    return cv2.remap(within, view[..., 0] - np.float32(box.x0), view[..., 1] - np.float32(box.y0),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def _sample(source_xy: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The map at a point between pixels (bilinear: exact where the map is affine)."""
    h, w = source_xy.shape[:2]
    x, y = np.clip(xy, 0, (w - 1.001, h - 1.001))
    x0, y0 = int(x), int(y)
    fx, fy = x - x0, y - y0
    cell = source_xy[y0:y0 + 2, x0:x0 + 2].astype(np.float64)
    top = cell[0, 0] * (1 - fx) + cell[0, 1] * fx
    bottom = cell[1, 0] * (1 - fx) + cell[1, 1] * fx
    return top * (1 - fy) + bottom * fy
