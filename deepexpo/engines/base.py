"""The interface every transfer engine implements.

The pipeline owns I/O, face detection and smoothing; an engine turns landmarks into its own
representation of identity (``prepare_source``) and of dynamic semantics (``extract``), and
renders the source wearing the driver's motion (``render``) or a hand-set edit of its own
(``edit``). Engines are free in what those
representations are: landmark shapes for the warp engine, keypoints and feature volumes for the
neural one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from ..face.landmarks import FaceLandmarks
from ..motion.compose import MotionOptions
from ..motion.controls import ExpressionEdit


class TransferEngine(ABC):
    name: ClassVar[str]
    #: How many driving frames :meth:`render_batch` takes at once.
    batch_size: int = 1

    @abstractmethod
    def prepare_source(self, image: np.ndarray, face: FaceLandmarks) -> Any:
        """Everything about the source that does not change between driving frames."""

    @abstractmethod
    def extract(self, image: np.ndarray, face: FaceLandmarks) -> Any:
        """The motion of one driving frame."""

    @abstractmethod
    def neutral_reference(self, driving: Any) -> Any:
        """The reference a single driving image is measured against: the same face, neutral
        and frontal."""

    @abstractmethod
    def render(self, source: Any, driving: Any, reference: Any, options: MotionOptions) -> np.ndarray:
        """The source image (full resolution, RGB uint8) with the driver's motion applied."""

    @abstractmethod
    def edit(self, source: Any, edit: ExpressionEdit) -> np.ndarray:
        """The source image with its own expression and pose edited by hand-set controls."""

    def render_batch(self, source: Any, drivings: Sequence[Any], reference: Any,
                     options: MotionOptions) -> list[np.ndarray]:
        """:meth:`render` for several driving frames (engines that batch override this)."""
        return [self.render(source, driving, reference, options) for driving in drivings]

    def motion_filter(self, fps: float) -> Callable[[Any], Any]:
        """A per-video filter over the driving motions, in frame order. The pipeline already
        smooths landmarks; engines whose motion has its own jitter smooth it here."""
        return lambda driving: driving
