"""The faces chosen in a source photo, driven or edited together.

Each face is prepared once, with its own identity, pose and territory, and rendered on the
photo by itself: its rendering changes only its own territory, so the faces' changes never
meet, and putting them together is copying each face's changed pixels. Every face gets the
same driver, each relative to its own pose and expression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..motion.compose import MotionOptions
from ..motion.controls import ExpressionEdit
from .base import TransferEngine


@dataclass(frozen=True)
class SourceFaces:
    """A photo and the engine's view of each face chosen in it, left to right."""

    engine: TransferEngine
    image: np.ndarray
    sources: tuple[Any, ...]

    def render_batch(self, drivings: Sequence[Any], reference: Any,
                     options: MotionOptions) -> list[np.ndarray]:
        """The photo with every chosen face wearing each driving frame's motion."""
        per_face = [self.engine.render_batch(source, drivings, reference, options)
                    for source in self.sources]
        return [self._together(renders) for renders in zip(*per_face, strict=True)]

    def render(self, driving: Any, reference: Any, options: MotionOptions) -> np.ndarray:
        return self.render_batch([driving], reference, options)[0]

    def edit(self, edit: ExpressionEdit) -> np.ndarray:
        """The photo with every chosen face edited the same way."""
        return self._together([self.engine.edit(source, edit) for source in self.sources])

    def _together(self, renders: Sequence[np.ndarray]) -> np.ndarray:
        if len(renders) == 1:
            return renders[0]
        out = self.image.copy()
        for render in renders:
            changed = np.any(render != self.image, axis=-1)
            out[changed] = render[changed]
        return out
