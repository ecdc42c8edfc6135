"""The transfer pipeline: owns I/O, face detection, smoothing and progress; engines do the maths."""

from __future__ import annotations

import logging
import os
import threading
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
from .motion.controls import ExpressionEdit, without_opening
from .motion.extract import extract_motion
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
        reference = driving = None
        lost = 0
        smooth = self.engine.motion_filter(info.fps)

        def render(batch: list[tuple[np.ndarray, Any]]) -> Iterator[np.ndarray]:
            driven = [d for _, d in batch if d is not None]
            outs = iter(self.engine.render_batch(source, driven, reference, options) if driven else [])
            for frame, d in batch:
                out = source_image if d is None else next(outs)  # no face yet: the source
                yield side_by_side(source_image, frame, out) if show_inputs else out

        def rendered() -> Iterator[np.ndarray]:
            nonlocal reference, driving, lost
            batch: list[tuple[np.ndarray, Any]] = []
            for frame, face in self._track(info):
                if face is not None:
                    driving = smooth(self.engine.extract(frame, face))
                    reference = reference or driving
                else:
                    lost += 1
                batch.append((frame, driving))
                if len(batch) == self.engine.batch_size:
                    yield from render(batch)
                    batch = []
            yield from render(batch)
            if reference is None:  # before the file is renamed into place
                raise NoFaceError(f"no face found in any frame of driving video '{info.path.name}'")

        self._write_video(info, output_path, rendered(), keep_audio, progress)
        if lost:
            logger.warning("no face in %d of %d driving frames; reused the last motion", lost,
                           info.frame_count)
        return Path(output_path)

    def edit_image(self, image: np.ndarray, edit: ExpressionEdit,
                   show_inputs: bool = False) -> np.ndarray:
        """The photo with its expression and head pose edited by hand-set controls."""
        image, source = self.prepare_source(image, "image")
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
        expressions = self._expression_changes(reference)
        edit = edit.speech_preserving()
        found = lost = 0

        def rendered() -> Iterator[np.ndarray]:
            nonlocal found, lost
            offset = None
            for frame, face in self._track(info):
                offset = next(expressions, offset)
                if face is None:
                    lost += 1
                    out = frame
                else:
                    found += 1
                    frame_edit = edit if offset is None else replace(edit, offset=offset)
                    out = self.engine.edit(self.engine.prepare_source(frame, face), frame_edit)
                yield side_by_side(frame, out) if show_inputs else out
            if not found:  # before the file is renamed into place
                raise NoFaceError(f"no face found in any frame of video '{info.path.name}'")

        self._write_video(info, output_path, rendered(), keep_audio, progress)
        if lost:
            logger.warning("no face in %d of %d frames; left them unedited", lost, info.frame_count)
        return Path(output_path)

    def _expression_changes(self, reference: str | os.PathLike | None) -> Iterator[np.ndarray]:
        """Per frame of a reference clip, its expression change from its first face, without
        the mouth opening (frames without a face repeat the last); nothing without a clip. The
        clip is read up front, so that a bad one fails before any output is written."""
        if reference is None:
            return iter(())
        info = probe_video(reference, self.limits)
        first, changes = None, []
        for _, face in self._track(info):
            if face is not None:
                expression = extract_motion(face).expression
                first = expression if first is None else first
                changes.append(without_opening(expression - first))
            elif changes:
                changes.append(changes[-1])
        if first is None:
            raise NoFaceError(f"no face found in any frame of reference video '{info.path.name}'")
        return iter(changes)

    def _track(self, info: VideoInfo) -> Iterator[tuple[np.ndarray, FaceLandmarks | None]]:
        """Each frame with its face, landmarks smoothed over time (``None``: no face found)."""
        tracker = MediaPipeLandmarker(tracking=True)
        smooth = OneEuroFilter(info.fps)
        tracked: FaceLandmarks | None = None  # the last frame's face; None re-detects
        try:
            for frame in iter_frames(info, self.limits):
                tracked = tracker.track(frame, tracked)
                face = None if tracked is None else FaceLandmarks(smooth(tracked.points),
                                                                  tracked.image_size)
                yield frame, face
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
