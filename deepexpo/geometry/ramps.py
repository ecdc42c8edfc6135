"""Ramps that fade one thing into another: a linear ramp's ends show as edges, a smooth
step's do not."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def smoothstep(x: ArrayLike) -> np.ndarray:
    """0 up to ``x`` = 0, 1 from 1, rising between as ``3x² - 2x³`` (no kink at either end)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)
