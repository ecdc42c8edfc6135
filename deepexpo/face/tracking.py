"""One face followed through a stream of frames: each frame's landmarks are looked for near the
last frame's face (faster and steadier than detecting afresh) and smoothed over time. The video
loop feeds it a file's frames, the live view a webcam's."""

from __future__ import annotations

import numpy as np

from ..motion.smoothing import OneEuroFilter
from .landmarks import FaceLandmarks, MediaPipeLandmarker


class FaceTracker:
    """Call it with each frame in order; it gives the face's smoothed landmarks, or ``None``
    where the face is lost (the next frame then detects afresh). Owns a MediaPipe graph:
    close it, or use it as a context manager."""

    def __init__(self, fps: float):
        self._landmarker = MediaPipeLandmarker(tracking=True)
        self._smooth = OneEuroFilter(fps)
        self._last: FaceLandmarks | None = None  # the last frame's face, unsmoothed

    def __call__(self, frame: np.ndarray) -> FaceLandmarks | None:
        self._last = self._landmarker.track(frame, self._last)
        if self._last is None:
            return None
        return FaceLandmarks(self._smooth(self._last.points), self._last.image_size)

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
