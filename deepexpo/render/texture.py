"""Two measures of a picture's texture that the redrawn parts (lids, covered eyes, mouths,
stretched skin) share: how strong its fine detail is, robustly, and its colours spread from
the pixels that are known (a normalised convolution)."""

from __future__ import annotations

import cv2
import numpy as np

#: A normal distribution's sigma over its median absolute deviation.
MAD_TO_SIGMA = 1.4826


def robust_spread(deviations: np.ndarray, axis: int | tuple[int, ...] | None = None
                  ) -> np.ndarray:
    """How far values typically lie from their centre (``deviations``: the values less it),
    as a normal distribution's sigma: their median absolute deviation, scaled. The few
    strong edges of an eye, a lash or a mouth line among fine detail do not inflate it as
    they would a standard deviation."""
    return MAD_TO_SIGMA * np.median(np.abs(deviations), axis=axis)


def masked_blur(image: np.ndarray, mask: np.ndarray, sigma: float,
                floor: float = 1e-4) -> np.ndarray:
    """``image`` (H, W, C) blurred from the pixels under ``mask`` (H, W, float) only: a
    normalised convolution, its weights at least ``floor`` (far from any known pixel)."""
    weight = cv2.GaussianBlur(mask, (0, 0), sigma)
    return cv2.GaussianBlur(image * mask[..., None], (0, 0), sigma) \
        / np.maximum(weight, floor)[..., None]
