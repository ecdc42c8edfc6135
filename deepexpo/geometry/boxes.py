"""Rectangles in pixel units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PixelBox:
    """A pixel rectangle ``[x0, x1) x [y0, y1)``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def around(cls, xy: np.ndarray, image_size: tuple[int, ...],
               margin: float = 0.0) -> PixelBox:
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

    def within(self, region: PixelBox) -> PixelBox:
        """The part of this box inside ``region`` (empty, its size not positive, where they
        do not overlap)."""
        return PixelBox(max(self.x0, region.x0), max(self.y0, region.y0),
                        min(self.x1, region.x1), min(self.y1, region.y1))
