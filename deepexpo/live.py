"""Live reenactment: a photo driven by webcam frames as they arrive, one at a time.

The photo is prepared once (at most ``output_side`` large). Each frame (downscaled to
``landmark_side`` when larger) has its face tracked from the last frame's and smoothed, its
eyes read against how shut its blinks have read (:class:`~deepexpo.motion.blinks.LiveBlinks`:
a blink the landmarker reads half shut closes the eyes without holding the frame back), and is
rendered by the same renderer as a driving video's frames
(:class:`~deepexpo.frame_renderers.TransferFrames`): in relative mode, relative to the first
frame with a face, or to the next one after :meth:`LiveReenactor.set_neutral`; a frame without
a face keeps the last motion.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import LIVE, LiveConfig
from .face.points import FacePoints
from .face.selection import FaceChoice
from .face.tracking import FaceTracker
from .frame_renderers import TransferFrames
from .io.images import as_rgb, fit_within
from .motion.blinks import LiveBlinks
from .motion.compose import MotionOptions
from .pipeline import TransferPipeline


@dataclass(frozen=True)
class LiveFrame:
    """One result: the photo wearing the frame's motion, and whether the frame had a face (if
    not, the photo keeps the last motion)."""

    image: np.ndarray
    face_found: bool


class LiveReenactor:
    """One visitor's photo, driven frame by frame. :meth:`close` frees the tracker's MediaPipe
    graph (a later frame starts another)."""

    def __init__(self, pipeline: TransferPipeline, photo: np.ndarray,
                 config: LiveConfig = LIVE, points: Sequence[FacePoints] = ()):
        """``points``: the photo's faces placed by hand (an animal, a cartoon), driven
        instead of a detected face."""
        self.config = config
        self.engine = pipeline.engine
        self.landmarker = pipeline.landmarker
        shown = fit_within(photo, config.output_side)
        scale = shown.shape[1] / photo.shape[1]
        faces = pipeline.prepare_faces(shown, what="identity photo",
                                       points=[face.scaled(scale) for face in points])
        self._frames = TransferFrames(faces, MotionOptions(), False,
                                      self.engine.motion_filter(config.fps))
        self._tracker: FaceTracker | None = None
        self._blinks = LiveBlinks(config.fps)
        self._flip: bool | None = None
        self._lock = threading.Lock()

    def set_neutral(self) -> None:
        """The next frame with a face becomes the reference that relative motion is measured
        from (until then, the first one was)."""
        self._frames.rebase()

    def drive(self, frame: np.ndarray, options: MotionOptions,
              flip: bool = False) -> LiveFrame | None:
        """The photo following ``frame`` (``flip``: mirrored left to right first). ``None``
        while another frame is being rendered: a live view drops a frame that arrives then
        rather than queue it, so the delay stays one frame's work however busy the machine."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            frame = as_rgb(frame, "webcam frame")
            if flip != self._flip:  # the face changes sides: track and measure it afresh
                self._restart_tracking(flip)
            if flip:
                frame = frame[:, ::-1]
            frame = np.ascontiguousarray(fit_within(frame, self.config.landmark_side))
            tracker: FaceTracker = self._tracker  # type: ignore[assignment]  # set above
            face = self._blinks(tracker(frame), tracker.found)
            self._frames.drive_with(options)
            out = self._frames.feed(frame, face) or self._frames.flush()
            return LiveFrame(out[0], face is not None)
        finally:
            self._lock.release()

    def _restart_tracking(self, flip: bool) -> None:
        self._close_tracker()
        self._tracker = FaceTracker(FaceChoice(), "the webcam", self.config.fps,
                                    self.landmarker)
        self._blinks = LiveBlinks(self.config.fps)  # its eyes change sides too
        self._flip = flip
        self.set_neutral()

    def _close_tracker(self) -> None:
        if self._tracker is not None:
            self._tracker.close()
        self._tracker, self._flip = None, None

    def close(self) -> None:
        """Waits for a frame being rendered, then frees the tracker."""
        with self._lock:
            self._close_tracker()
