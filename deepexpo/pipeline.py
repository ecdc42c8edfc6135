"""The transfer pipeline: owns I/O, face detection, smoothing and progress; engines do the maths."""

from __future__ import annotations

import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .config import INPUT_LIMITS, InputLimits
from .engines import TransferEngine, create_engine
from .errors import NoFaceError
from .face.landmarks import FaceLandmarks, MediaPipeLandmarker
from .io.images import as_rgb
from .io.output import atomic_output
from .io.video import Mp4Writer, VideoInfo, check_video_output, iter_frames, probe_video
from .motion.compose import MotionOptions
from .motion.controls import ExpressionEdit, reference_offsets
from .motion.smoothing import OneEuroFilter

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (frames done, frames in all)


def side_by_side(*images: np.ndarray) -> np.ndarray:
    """Images side by side at the height of the first (rounded down to even, for video)."""
    h = images[0].shape[0] - images[0].shape[0] % 2
    row = [cv2.resize(im, (max(2, round(im.shape[1] * h / im.shape[0])), h),
                      interpolation=cv2.INTER_AREA) for im in images]
    return np.concatenate(row, axis=1)


class TransferPipeline:
    """Identity image + driving image or video -> the identity wearing the driver's motion."""

    def __init__(self, engine: str | TransferEngine = "auto", limits: InputLimits = INPUT_LIMITS):
        self.engine = create_engine(engine) if isinstance(engine, str) else engine
        self.limits = limits
        self._landmarker = MediaPipeLandmarker()
        self._landmarker_lock = threading.Lock()  # one MediaPipe graph, several app requests

    def detect(self, image: np.ndarray, what: str) -> FaceLandmarks:
        with self._landmarker_lock:
            return self._landmarker.detect(image, what)

    def prepare_source(self, image: np.ndarray, what: str = "source image") -> tuple[np.ndarray, Any]:
        image = as_rgb(image, what, self.limits)
        return image, self.engine.prepare_source(image, self.detect(image, what))

    def transfer_image(
        self,
        source_image: np.ndarray,
        driving_image: np.ndarray,
        options: MotionOptions = MotionOptions(),
        show_inputs: bool = False,
    ) -> np.ndarray:
        """The source person with the driving image's expression and pose.

        In relative mode a single driving image is measured against its own neutral, frontal
        face, so a screaming driver makes a calm source scream.
        """
        source_image, source = self.prepare_source(source_image)
        driving_image = as_rgb(driving_image, "driving image", self.limits)
        driving = self.engine.extract(driving_image, self.detect(driving_image, "driving image"))
        reference = self.engine.neutral_reference(driving)
        out = self.engine.render(source, driving, reference, options)
        return side_by_side(source_image, driving_image, out) if show_inputs else out

    def transfer_video(
        self,
        source_image: np.ndarray,
        driving_video: str | os.PathLike,
        output_path: str | os.PathLike,
        options: MotionOptions = MotionOptions(),
        show_inputs: bool = False,
        keep_audio: bool = True,
        progress: Progress | None = None,
    ) -> Path:
        """Write an mp4 of the source person following the driving video, at its frame rate.

        Relative mode takes motion relative to the first frame with a face. Landmarks are
        smoothed over time; a frame where the face is lost reuses the last good motion.
        """
        output_path = check_video_output(output_path, (driving_video,))
        info = probe_video(driving_video, self.limits)
        source_image, source = self.prepare_source(source_image)
        frames = _TransferFrames(self.engine, source_image, source, options, show_inputs,
                                 self.engine.motion_filter(info.fps))
        self._video(info, output_path, frames, keep_audio, progress, "driving video")
        if frames.lost:
            logger.warning("no face in %d of %d driving frames; reused the last motion",
                           frames.lost, info.frame_count)
        return output_path

    def edit_image(self, image: np.ndarray, edit: ExpressionEdit, show_inputs: bool = False,
                   prepared: tuple[np.ndarray, Any] | None = None) -> np.ndarray:
        """The photo with its expression and head pose edited by hand-set controls.
        ``prepared``: what :meth:`prepare_source` gave for it, kept by a caller that edits the
        same photo again and again (the app's sliders)."""
        image, source = prepared or self.prepare_source(image, "image")
        out = self.engine.edit(source, edit)
        return side_by_side(image, out) if show_inputs else out

    def edit_video(
        self,
        video: str | os.PathLike,
        output_path: str | os.PathLike,
        edit: ExpressionEdit,
        show_inputs: bool = False,
        keep_audio: bool = True,
        progress: Progress | None = None,
        reference: str | os.PathLike | None = None,
    ) -> Path:
        """Write the video with the edit (an emotion, say) applied to every frame, while each
        frame keeps its own head pose and lip motion, so speech survives. With a ``reference``
        clip, frame i also takes on the change of the reference's expression from its first
        frame to its frame i (its mouth opening left out; a shorter clip holds its last frame).
        Frames without a face are left as they are."""
        output_path = check_video_output(output_path, (video, reference))
        info = probe_video(video, self.limits)
        offsets: list[np.ndarray] = []
        if reference is not None:  # read up front: a bad clip fails before any output
            clip = probe_video(reference, self.limits)
            offsets = reference_offsets(face for _, face in self._track(clip))
            if not offsets:
                raise NoFaceError(f"no face found in any frame of reference video "
                                  f"'{clip.path.name}'")
        frames = _EditFrames(self.engine, edit.speech_preserving(), offsets, show_inputs)
        self._video(info, output_path, frames, keep_audio, progress, "video")
        if frames.lost:
            logger.warning("no face in %d of %d frames; left them unedited", frames.lost,
                           info.frame_count)
        return output_path

    def _video(self, info: VideoInfo, output_path: Path, frames: FrameRenderer,
               keep_audio: bool, progress: Progress | None, what: str) -> None:
        """The one video loop: track the faces, turn each frame into output frames, and write
        them to a file that appears under ``output_path`` only once complete. A video in which
        no frame has a face fails before anything is encoded."""
        if all(face is None for _, face in self._track(info, until_face=True)):
            raise NoFaceError(f"no face found in any frame of {what} '{info.path.name}'")

        def rendered() -> Iterator[np.ndarray]:
            for frame, face in self._track(info):
                yield from frames.feed(frame, face)
            yield from frames.flush()

        self._write_video(info, output_path, rendered(), keep_audio, progress)

    def _track(self, info: VideoInfo, until_face: bool = False
               ) -> Iterator[tuple[np.ndarray, FaceLandmarks | None]]:
        """Each frame with its face, landmarks smoothed over time (``None``: no face found);
        ``until_face``: stop after the first frame with one."""
        tracker = MediaPipeLandmarker(tracking=True)
        smooth = OneEuroFilter(info.fps)
        tracked: FaceLandmarks | None = None  # the last frame's face; None re-detects
        try:
            for frame in iter_frames(info, self.limits):
                tracked = tracker.track(frame, tracked)
                face = None if tracked is None else FaceLandmarks(smooth(tracked.points),
                                                                  tracked.image_size)
                yield frame, face
                if until_face and face is not None:
                    return
        finally:
            tracker.close()

    @staticmethod
    def _write_video(info: VideoInfo, output_path: str | os.PathLike,
                     frames: Iterable[np.ndarray], keep_audio: bool,
                     progress: Progress | None) -> None:
        """The frames as an mp4 that appears under ``output_path`` only once complete."""
        audio = info.path if keep_audio and info.has_audio else None
        with atomic_output(output_path) as partial, \
                Mp4Writer(partial, info.fps, audio_from=audio) as writer:
            for index, frame in enumerate(frames):
                writer.write(frame)
                if progress is not None:
                    progress(index + 1, info.frame_count)


class FrameRenderer(ABC):
    """Turns tracked video frames into output frames, in order; may hold some back to render
    them in a batch. Counts the frames without a face."""

    def __init__(self) -> None:
        self.lost = 0

    def feed(self, frame: np.ndarray, face: FaceLandmarks | None) -> list[np.ndarray]:
        self.lost += face is None
        return self._feed(frame, face)

    @abstractmethod
    def _feed(self, frame: np.ndarray, face: FaceLandmarks | None) -> list[np.ndarray]:
        """The output frames that are ready after this one."""

    def flush(self) -> list[np.ndarray]:
        """The frames still held back, at the end of the video."""
        return []


class _TransferFrames(FrameRenderer):
    """The source driven by each frame: motion relative to the first frame with a face; a
    frame without one reuses the last motion (the source itself before the first face)."""

    def __init__(self, engine: TransferEngine, source_image: np.ndarray, source: Any,
                 options: MotionOptions, show_inputs: bool, smooth: Callable[[Any], Any]):
        super().__init__()
        self.engine, self.source_image, self.source = engine, source_image, source
        self.options, self.show_inputs, self.smooth = options, show_inputs, smooth
        self.reference: Any = None
        self.driving: Any = None
        self.batch: list[tuple[np.ndarray, Any]] = []

    def _feed(self, frame: np.ndarray, face: FaceLandmarks | None) -> list[np.ndarray]:
        if face is not None:
            self.driving = self.smooth(self.engine.extract(frame, face))
            self.reference = self.reference or self.driving
        self.batch.append((frame, self.driving))
        return self.flush() if len(self.batch) == self.engine.batch_size else []

    def flush(self) -> list[np.ndarray]:
        batch, self.batch = self.batch, []
        driven = [d for _, d in batch if d is not None]
        outs = iter(self.engine.render_batch(self.source, driven, self.reference, self.options)
                    if driven else [])
        rendered = []
        for frame, driving in batch:
            out = self.source_image if driving is None else next(outs)
            rendered.append(side_by_side(self.source_image, frame, out) if self.show_inputs
                            else out)
        return rendered


class _EditFrames(FrameRenderer):
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
