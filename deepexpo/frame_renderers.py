"""How each kind of video job turns tracked frames into output frames. The pipeline's one video
loop feeds them frames in order and writes what they return."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from .engines import TransferEngine
from .engines.source_faces import SourceFaces
from .face.landmarks import FaceLandmarks
from .motion.compose import MotionOptions
from .motion.controls import ExpressionEdit
from .motion.regions import get_region
from .render.lent_eyes import EyeLender

#: How long (seconds) a source video's blink borrows its eyes from the frame before it: an eye
#: shut or narrowed longer is the video's own.
LEND_EYES_FOR = 1.0


def side_by_side(*images: np.ndarray) -> np.ndarray:
    """Images side by side at the height of the first (rounded down to even, for video)."""
    h = images[0].shape[0] - images[0].shape[0] % 2
    row = [cv2.resize(im, (max(2, round(im.shape[1] * h / im.shape[0])), h),
                      interpolation=cv2.INTER_AREA) for im in images]
    return np.concatenate(row, axis=1)


class FrameRenderer(ABC):
    """Turns tracked video frames into output frames, in order; may hold some back to render
    them in a batch. Counts the frames without a face."""

    def __init__(self) -> None:
        self.lost = 0
        self.done = False  # no more output wanted: the loop may stop reading

    def feed(self, frame: np.ndarray, face: FaceLandmarks | None) -> list[np.ndarray]:
        self.lost += face is None
        return self._feed(frame, face)

    @abstractmethod
    def _feed(self, frame: np.ndarray, face: FaceLandmarks | None) -> list[np.ndarray]:
        """The output frames that are ready after this one."""

    def flush(self) -> list[np.ndarray]:
        """The frames still held back, at the end of the video."""
        return []


class TransferFrames(FrameRenderer):
    """The source's chosen faces driven by each frame: motion relative to the first frame with
    a face; a frame without one reuses the last motion (the source itself before the first
    face)."""

    def __init__(self, faces: SourceFaces, options: MotionOptions, show_inputs: bool,
                 smooth: Callable[[Any], Any]):
        super().__init__()
        self.faces, self.engine = faces, faces.engine
        self.options, self.show_inputs, self.smooth = options, show_inputs, smooth
        self.reference: Any = None
        self.driving: Any = None
        self.batch: list[tuple[np.ndarray, Any]] = []

    def _feed(self, frame: np.ndarray, face: FaceLandmarks | None) -> list[np.ndarray]:
        if face is not None:
            self.driving = self.smooth(self.engine.extract(frame, face))
            if self.reference is None:
                self.reference = self.driving
        self.batch.append((frame, self.driving))
        return self.flush() if len(self.batch) == self.engine.batch_size else []

    def drive_with(self, options: MotionOptions) -> None:
        """Frames from now on are driven with ``options`` (Live: the sliders as they move)."""
        self.options = options

    def rebase(self) -> None:
        """The next frame with a face becomes the reference relative motion is measured from."""
        self.reference = None

    def flush(self) -> list[np.ndarray]:
        batch, self.batch = self.batch, []
        driven = [d for _, d in batch if d is not None]
        outs = iter(self.faces.render_batch(driven, self.reference, self.options)
                    if driven else [])
        rendered = []
        for frame, driving in batch:
            out = self.faces.image if driving is None else next(outs)
            rendered.append(side_by_side(self.faces.image, frame, out) if self.show_inputs
                            else out)
        return rendered


class EditFrames(FrameRenderer):
    """Each frame edited as itself (its own pose and lips), plus the reference clip's
    expression change at the same time (its last one once the clip ends)."""

    def __init__(self, engine: TransferEngine, edit: ExpressionEdit, offsets: list[np.ndarray],
                 show_inputs: bool):
        super().__init__()
        self.engine, self.edit, self.show_inputs = engine, edit, show_inputs
        self.offsets = iter(offsets)
        self.offset: np.ndarray | None = None

    def _feed(self, frame: np.ndarray, face: FaceLandmarks | None) -> list[np.ndarray]:
        self.offset = next(self.offsets, self.offset)
        out = frame
        if face is not None:
            edit = self.edit if self.offset is None else replace(self.edit, offset=self.offset)
            out = self.engine.edit(self.engine.prepare_source(frame, face), edit)
        return [side_by_side(frame, out) if self.show_inputs else out]


class DriverTimeline:
    """The driver at the output's times: for output time ``t`` a driving video's frame
    ``floor(t * fps)`` (resampled where the frame rates differ; a shorter driver holds its last
    frame, and ``ended`` says so), or one image for every time. Driving motion is smoothed in
    order, relative to the first driving frame with a face (an image: its own neutral face)."""

    def __init__(self, engine: TransferEngine, fps: float,
                 tracked: Iterator[tuple[np.ndarray, FaceLandmarks | None]] | None = None,
                 smooth: Callable[[Any], Any] = lambda driving: driving):
        self.engine, self.fps, self.tracked, self.smooth = engine, fps, tracked, smooth
        self.index = -1
        self.ended = False
        self.frame: np.ndarray | None = None
        self.driving: Any = None
        self.reference: Any = None

    @classmethod
    def from_image(cls, engine: TransferEngine, image: np.ndarray,
                   face: FaceLandmarks) -> DriverTimeline:
        timeline = cls(engine, fps=0.0)
        timeline.frame, timeline.driving = image, engine.extract(image, face)
        timeline.reference = engine.neutral_reference(timeline.driving)
        return timeline

    def at(self, time: float) -> tuple[np.ndarray | None, Any, Any]:
        """(driving frame, its motion, the reference) at ``time`` seconds; times must not go
        back. The motion is ``None`` until the driver's first face."""
        if self.tracked is None:
            return self.frame, self.driving, self.reference
        wanted, seen = int(time * self.fps + 1e-6), None
        while self.index < wanted and not self.ended:
            item = next(self.tracked, None)
            if item is None:
                self.ended = True
                break
            self.index += 1
            self.frame = item[0]
            seen = item if item[1] is not None else seen  # a skipped frame's face still counts
        if seen is not None:
            self.driving = self.smooth(self.engine.extract(*seen))  # type: ignore[arg-type]  # seen has a face
            if self.reference is None:
                self.reference = self.driving
        return self.frame, self.driving, self.reference


class SourceVideoFrames(FrameRenderer):
    """A source video driven by another video or an image: each frame keeps, from its own
    source frame, whatever the region does not drive (relative: the driver's change is added
    to the frame's own motion). Frames without a face, or before the driver's first face, stay
    as they are; with ``shortest`` the output stops where the driver does. Where the driver
    moves the eyes, a frame's blink is drawn with the eyes the frame before it showed open, or
    at the video's start the first frame after (:class:`EyeLender`, which holds the first
    frames back for it): the driver decides when they shut."""

    def __init__(self, engine: TransferEngine, timeline: DriverTimeline, fps: float,
                 options: MotionOptions, show_inputs: bool, shortest: bool):
        super().__init__()
        self.engine, self.timeline, self.fps = engine, timeline, fps
        self.options, self.show_inputs, self.shortest = options, show_inputs, shortest
        self.count = 0
        self.lend_eyes = EyeLender(max(1, round(LEND_EYES_FOR * fps))) \
            if options.strength > 0 and get_region(options.region).drives("eyes") else None
        # The frames the lender holds back, with the driver at their times.
        self.held: deque[tuple[np.ndarray, tuple[np.ndarray | None, Any, Any]]] = deque()

    def _feed(self, frame: np.ndarray, face: FaceLandmarks | None) -> list[np.ndarray]:
        driver = self.timeline.at(self.count / self.fps)
        self.count += 1
        if self.shortest and self.timeline.ended:
            self.done = True
            return []
        if self.lend_eyes is None:
            return [self._render(frame, driver, frame, face)]
        self.held.append((frame, driver))
        return self._rendered(self.lend_eyes.feed(frame, face))

    def flush(self) -> list[np.ndarray]:
        return [] if self.lend_eyes is None else self._rendered(self.lend_eyes.flush())

    def _rendered(self, lent: list[tuple[np.ndarray, FaceLandmarks | None]]) -> list[np.ndarray]:
        """The held frames that the lender handed back (``lent``: in order), rendered."""
        return [self._render(*self.held.popleft(), image, face) for image, face in lent]

    def _render(self, frame: np.ndarray, driver: tuple[np.ndarray | None, Any, Any],
                image: np.ndarray, face: FaceLandmarks | None) -> np.ndarray:
        """The output for source ``frame`` (``image``: with its eyes lent) at ``driver``."""
        driver_frame, driving, reference = driver
        out = frame
        if face is not None and driving is not None:
            source = self.engine.prepare_source(image, face)
            out = self.engine.render(source, driving, reference, self.options)
        if not self.show_inputs:
            return out
        return side_by_side(frame, frame if driver_frame is None else driver_frame, out)
