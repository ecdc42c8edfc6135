"""One-Euro filter (Casiez et al., 2012) for landmark tracks.

Low cut-off when the face is still (no jitter), higher when it moves fast (little lag).
"""

from __future__ import annotations

import math

import numpy as np

from ..config import SMOOTHING, SmoothingConfig


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters an array signal sample by sample; every element is filtered independently."""

    def __init__(self, fps: float, config: SmoothingConfig = SMOOTHING):
        self.dt = 1.0 / fps
        self.config = config
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def __call__(self, value: np.ndarray) -> np.ndarray:
        cfg = self.config
        if self._value is None or self._speed is None:  # the first sample (both set together)
            self._value, self._speed = value.copy(), np.zeros_like(value)
            return value
        speed = (value - self._value) / self.dt
        a_d = _alpha(cfg.derivative_cutoff, self.dt)
        self._speed = a_d * speed + (1 - a_d) * self._speed
        a = _alpha(cfg.min_cutoff + cfg.beta * np.abs(self._speed), self.dt)
        self._value = a * value + (1 - a) * self._value
        return self._value.copy()
