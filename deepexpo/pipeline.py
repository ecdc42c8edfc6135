"""The transfer pipeline: owns I/O, face detection, smoothing and progress; engines do the maths."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .config import INPUT_LIMITS, InputLimits
from .engines import TransferEngine, create_engine
from .errors import NoFaceError
from .face.landmarks import FaceLandmarks, MediaPipeLandmarker
from .io.images import as_rgb
from .io.video import Mp4Writer, iter_frames, probe_video
from .motion.compose import MotionOptions
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

    def detect(self, image: np.ndarray, what: str) -> FaceLandmarks:
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
        info = probe_video(driving_video, self.limits)
        source_image, source = self.prepare_source(source_image)
        tracker = MediaPipeLandmarker(tracking=True)
        smooth = OneEuroFilter(info.fps)
        audio = info.path if keep_audio and info.has_audio else None
        tracked: FaceLandmarks | None = None  # the last frame's face; None re-detects
        reference = driving = None
        lost = 0
        try:
            with Mp4Writer(output_path, info.fps, audio_from=audio) as writer:
                for index, frame in enumerate(iter_frames(info, self.limits)):
                    tracked = tracker.track(frame, tracked)
                    if tracked is not None:
                        face = FaceLandmarks(smooth(tracked.points), tracked.image_size)
                        driving = self.engine.extract(frame, face)
                        reference = reference or driving
                    else:
                        lost += 1
                    if driving is None:  # no face yet: the source as it is
                        out = source_image
                    else:
                        out = self.engine.render(source, driving, reference, options)
                    writer.write(side_by_side(source_image, frame, out) if show_inputs else out)
                    if progress is not None:
                        progress(index + 1, info.frame_count)
        finally:
            tracker.close()
        if reference is None:
            Path(output_path).unlink(missing_ok=True)
            raise NoFaceError(f"no face found in any frame of driving video '{info.path.name}'")
        if lost:
            logger.warning("no face in %d of %d driving frames; reused the last motion", lost,
                           info.frame_count)
        return Path(output_path)
