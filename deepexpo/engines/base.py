"""The contract every transfer engine implements, generic over its two representations.

The pipeline owns I/O, face detection and landmark smoothing; an engine owns the maths:

- ``prepare_source(image, face, territory) -> SourceT``: the source's *identity* and everything
  about it that does not change between driving frames (the warp engine: the photo, its
  landmarks, motion and warp anchors; the neural engine: the crop, appearance volume and
  keypoints). In a photo with other faces, ``territory`` is where this face's rendering may
  change pixels (:mod:`~deepexpo.face.territory`): beyond it ``render`` and ``edit`` leave the
  photo exactly as it was.
- ``extract(image, face) -> DrivingT``: the *dynamic semantics* (expression and head pose) of
  one driving frame.
- ``neutral_reference(driving) -> DrivingT``: the same face made neutral and frontal, which a
  single driving image is measured against in relative mode.
- ``render(source, driving, reference, options) -> image``: the source image (full size, RGB
  uint8) wearing the driver's motion as :class:`~deepexpo.motion.compose.MotionOptions` says
  (relative to ``reference``, or absolute); ``render_batch`` does several driving frames.
- ``edit(source, edit) -> image``: the source with its own expression and pose changed by
  hand-set controls (:class:`~deepexpo.motion.controls.ExpressionEdit`).
- ``motion_filter(fps)``: a per-video smoother over ``DrivingT`` values, in frame order.

Every engine gives the options the same meaning (the conformance tests hold them to it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar, Generic, TypeVar

import numpy as np

from ..face.landmarks import FaceLandmarks
from ..face.territory import Territory
from ..motion.compose import MotionOptions
from ..motion.controls import ExpressionEdit

SourceT = TypeVar("SourceT")
DrivingT = TypeVar("DrivingT")


class TransferEngine(ABC, Generic[SourceT, DrivingT]):
    name: ClassVar[str]
    #: How many driving frames :meth:`render_batch` takes at once.
    batch_size: int = 1

    @abstractmethod
    def prepare_source(self, image: np.ndarray, face: FaceLandmarks,
                       territory: Territory | None = None) -> SourceT:
        """Identity, and everything about the source that stays the same from frame to frame;
        ``territory``: the only part of the image its renderings may change (``None``: all)."""

    @abstractmethod
    def extract(self, image: np.ndarray, face: FaceLandmarks) -> DrivingT:
        """The motion of one driving frame."""

    @abstractmethod
    def neutral_reference(self, driving: DrivingT) -> DrivingT:
        """The reference a single driving image is measured against: the same face, neutral
        and frontal."""

    @abstractmethod
    def render(self, source: SourceT, driving: DrivingT, reference: DrivingT,
               options: MotionOptions) -> np.ndarray:
        """The source image (full resolution, RGB uint8) with the driver's motion applied."""

    @abstractmethod
    def edit(self, source: SourceT, edit: ExpressionEdit) -> np.ndarray:
        """The source image with its own expression and pose edited by hand-set controls."""

    def render_batch(self, source: SourceT, drivings: Sequence[DrivingT], reference: DrivingT,
                     options: MotionOptions) -> list[np.ndarray]:
        """:meth:`render` for several driving frames (engines that batch override this)."""
        return [self.render(source, driving, reference, options) for driving in drivings]

    def motion_filter(self, fps: float) -> Callable[[DrivingT], DrivingT]:
        """A per-video filter over the driving motions, in frame order. The pipeline already
        smooths landmarks; engines whose motion has its own jitter smooth it here."""
        return lambda driving: driving
