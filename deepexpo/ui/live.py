"""The Live tab's handlers (its layout: ``ui/tabs/live.py``): an identity photo following the
visitor's webcam face as it moves.

Gradio's own streaming carries it: the browser sends a webcam frame every
``LIVE_TAB.frame_interval_s`` over the app's connection and shows each result as it comes back
(no WebRTC, so no TURN server). Gradio keeps only the newest frame a stream has sent while one is
being rendered, so a busy machine drops frames instead of queueing them. Whatever goes wrong
shows in the status line: an error would end the stream's event, and the webcam would start
another at its next frame.
"""

from __future__ import annotations

import threading
from typing import Any

import gradio as gr

from .. import get_pipeline
from ..application import motion_options
from ..engines import resolve_engine
from ..engines.registry import VIDEO
from ..errors import DeepExPoError, InputError, NoSourceFaceError
from ..face.points import FacePoints, points_json
from ..io.images import decode_image, read_image
from ..live import LiveReenactor
from .config import APP_LIMITS, LIVE_TAB, LiveTabConfig
from .handlers import NO_FACE_HINT, source_points
from .live_slots import LiveSlots
from .points_draft import PointsDraft

NO_PHOTO = "Choose an identity photo (or an example) first."
NO_FACE = "No face in the webcam frame: the photo keeps its last expression."
ABSOLUTE = "Live: the photo wears your expression and head rotation as they are."
FROM_FIRST = "Live: the photo moves as you move from your first frame."
FROM_NEUTRAL = "Live: the photo moves as you move from the neutral you set."


class _Visitor:
    """One visitor's live session: their photo, driven (prepared again when the photo
    changes), and whether they set a neutral. Frames of one visitor may arrive together (a
    stream restarted, two requests): one prepares the photo while the others wait for it."""

    def __init__(self, config: LiveTabConfig):
        self.config = config
        self._lock = threading.Lock()
        self.photo: tuple[str, str] | None = None  # the photo's path, its points' JSON
        self.reenactor: LiveReenactor | None = None
        self.problem: DeepExPoError | None = None  # why the photo cannot be driven
        self.neutral_set = False
        self.shown: str | None = None  # the status the visitor sees

    def reenactor_for(self, photo: str, points: tuple[FacePoints, ...] = ()) -> LiveReenactor:
        """``photo``'s reenactor (its face placed by ``points``, if any); a photo that cannot
        be driven (no face, say) says so again at once, frame after frame, without being read
        again."""
        key = (photo, points_json(points) if points else "")
        with self._lock:
            if key != self.photo:
                self._close()
                try:
                    pipeline = get_pipeline(resolve_engine("auto", VIDEO.placing(points)),
                                            APP_LIMITS)
                    self.reenactor = LiveReenactor(pipeline, read_image(photo, APP_LIMITS),
                                                   self.config.driving, points)
                except DeepExPoError as exc:
                    self.problem = exc
                self.photo = key
            if self.reenactor is None:
                raise type(self.problem)(str(self.problem))  # type: ignore[misc]  # set with it
            return self.reenactor

    def set_neutral(self) -> str:
        with self._lock:
            if self.reenactor is not None:
                self.reenactor.set_neutral()
            self.neutral_set = True
            self.shown = FROM_NEUTRAL
            return FROM_NEUTRAL

    def status(self, face_found: bool, relative: bool) -> str:
        """What the photo does now."""
        if not face_found:
            return NO_FACE
        if not relative:
            return ABSOLUTE
        return FROM_NEUTRAL if self.neutral_set else FROM_FIRST

    def say(self, status: str) -> Any:
        """``status``, or nothing to send when the visitor sees it already (each update costs
        the browser a render, many times a second)."""
        if status == self.shown:
            return gr.skip()
        self.shown = status
        return status

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self.reenactor is not None:
            self.reenactor.close()
        self.photo, self.reenactor, self.problem, self.neutral_set = None, None, None, False


class LiveHandlers:
    """What the Live tab calls. Visitors are told apart by their Gradio session."""

    def __init__(self, config: LiveTabConfig = LIVE_TAB):
        self.config = config
        self.slots: LiveSlots[_Visitor] = LiveSlots(config.slots, config.session_s,
                                                   config.idle_s)

    def frame(self, frame: bytes | None, photo: str | None, region: str, strength: float,
              relative: bool, mirror: bool, points: PointsDraft | None,
              request: gr.Request) -> tuple[Any, Any]:
        """One webcam frame (JPEG bytes) in; the photo wearing its motion, and the status,
        out. Gradio's webcam sends frames mirrored, as its preview shows them; with ``mirror``
        off they are turned back, so the photo moves as a person facing you would.
        ``points``: the photo's face placed in the points tool."""
        if frame is None:
            return gr.skip(), gr.skip()
        visitor = None
        try:
            if not photo:
                raise InputError(NO_PHOTO)
            # Its size read from the header before it is decoded, and before a slot is taken.
            image = decode_image(frame, "webcam frame", self.config.frame_limits)
            visitor = self.slots.claim(request.session_hash, lambda: _Visitor(self.config))
            result = visitor.reenactor_for(photo, source_points(points)).drive(
                image, motion_options(region, not relative, strength), flip=not mirror)
        except DeepExPoError as exc:  # in line, or no photo: no session to remember it
            message = f"{exc}; {NO_FACE_HINT}" if isinstance(exc, NoSourceFaceError) else str(exc)
            return gr.skip(), message if visitor is None else visitor.say(message)
        if result is None:  # this visitor's previous frame is still rendering
            return gr.skip(), gr.skip()
        return result.image, visitor.say(visitor.status(result.face_found, relative))

    def stop(self, request: gr.Request) -> None:
        """The stream stopped: the slot, or the place in line, is free for the next."""
        self.slots.release(request.session_hash)

    def set_neutral(self, request: gr.Request) -> Any:
        """The visitor's next frame becomes the reference the photo moves from."""
        visitor = self.slots.session(request.session_hash)
        return gr.skip() if visitor is None else visitor.set_neutral()
