"""The line where a shut eye's lids meet, and the lid over an eye taller than its lid.

The warp squeezes everything between the lids, iris included, into the pixel or two along that
line; sampled there point by point, it shows as a dashed, jagged dark seam. Softened across the
line, it reads as what a shut eye shows there: a soft line of lashes. An eye taller than the
skin above it (a cartoon's, a cat's) is covered by skin filled in from around it, not by that
skin stretched (:func:`cover_eye`).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..geometry.boxes import PixelBox

#: The softened band's half-height and its blur, as fractions of the eye's width.
SEAM_HALF_HEIGHT = 0.04
SEAM_BLUR = 0.025


def soften_seam(out: np.ndarray, margin_xy: np.ndarray, eye_width: float) -> None:
    """Blur ``out`` (in place) across the polyline ``margin_xy`` (the shut eye's meeting lids,
    corner to corner, in pixels), fading out within :data:`SEAM_HALF_HEIGHT` of it."""
    half = max(1.0, SEAM_HALF_HEIGHT * eye_width)
    sigma = max(0.6, SEAM_BLUR * eye_width)
    box = PixelBox.around(margin_xy, out.shape[:2], half + 3 * sigma + 2)
    if box.size[0] < 3 or box.size[1] < 3:
        return
    patch = out[box.slices]
    band = np.zeros(box.size, np.float32)
    line = np.round((margin_xy[np.argsort(margin_xy[:, 0])] - [box.x0, box.y0]) * 4)
    cv2.polylines(band, [line.astype(np.int32)], False, 1.0, max(1, int(round(2 * half))),
                  cv2.LINE_AA, shift=2)
    alpha = cv2.GaussianBlur(band, (0, 0), sigma)[..., None]
    alpha = np.clip(alpha / max(float(alpha.max()), 1e-6), 0.0, 1.0)
    soft = cv2.GaussianBlur(patch, (0, 0), sigmaX=0.5 * sigma, sigmaY=sigma).astype(np.float32)
    patch[...] = (alpha * soft + (1 - alpha) * patch).astype(np.uint8)


def cover_eye(out: np.ndarray, top: np.ndarray, bottom: np.ndarray, lid: np.ndarray,
              rim: float) -> None:
    """Where a closing lid now covers an eye (a cat's, a cartoon's: no lid skin above it to
    draw down), paint that part of ``out`` (in place) with the skin around the eye, filled in
    from it: stretched over the eye, what little skin lies above it would streak fur or smear
    paint, and repeated, it would repeat whatever lies above it (a brow).

    ``top``, ``bottom``: the open eye's upper and lower margins in ``out``; ``lid``: its
    closing lid (each (K, 2), corner to corner, in the same order); ``rim``: how far beyond the
    margins the eye's dark rim reaches, in pixels. The fill takes nothing from the eye itself,
    which shows below the lid."""
    box = PixelBox.around(np.r_[top, bottom, lid], out.shape[:2], 2 * rim + 4.0)
    left, right = top[0], top[-1]
    length = float(np.linalg.norm(right - left))
    if box.size[0] < 3 or box.size[1] < 3 or length < 1.0:
        return
    axis = (right - left) / length
    down = np.array([-axis[1], axis[0]])
    ys, xs = np.mgrid[box.y0:box.y1, box.x0:box.x1].astype(np.float64)
    rel = np.stack([xs - left[0], ys - left[1]], axis=-1)
    u, v = rel @ axis / length, rel @ down

    def height(curve: np.ndarray) -> np.ndarray:
        cu = (curve - left) @ axis / length
        order = np.argsort(cu)
        return np.interp(u, cu[order], ((curve - left) @ down)[order])

    size = 2 * int(np.ceil(rim)) + 1
    grow = np.ones((size, size), np.uint8)
    eye = (v >= height(top)) & (v <= height(bottom)) & (u > 0) & (u < 1)
    eye = cv2.dilate(eye.astype(np.uint8), grow)
    covered = (eye > 0) & (v <= height(lid) + rim)  # the rim along the lid too
    if not covered.any():
        return
    patch = np.ascontiguousarray(out[box.slices])
    filled = cv2.inpaint(patch, eye, max(2.0, rim), cv2.INPAINT_TELEA)
    patch[covered] = filled[covered]
    out[box.slices] = patch
