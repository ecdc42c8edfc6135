"""The line where a shut eye's lids meet.

The warp squeezes everything between the lids, iris included, into the pixel or two along that
line; sampled there point by point, it shows as a dashed, jagged dark seam. Softened across the
line, it reads as what a shut eye shows there: a soft line of lashes.
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
