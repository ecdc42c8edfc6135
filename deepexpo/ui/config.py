"""The web app's settings, apart from the library's (``deepexpo/config.py``): one machine
serves every visitor, so its limits are tighter than a user's own CLI or Python calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from ..config import LIVE, InputLimits, LiveConfig


@dataclass(frozen=True)
class StorageLimits:
    """The app's uploads and results: deleted once older than ``max_age_s``, and oldest first
    to make room for an upload that would take them past ``max_bytes`` (files younger than
    ``keep_recent_s``, likely in use by a job, stay: the upload is refused instead)."""

    max_age_s: float = 900.0
    max_bytes: int = 2 * 1024**3
    keep_recent_s: float = 300.0
    prune_every_s: float = 60.0


@dataclass(frozen=True)
class AppConcurrency:
    """How much work the app takes on at once: one machine serves every visitor."""

    work: int = 2  # jobs at once across the app: transfers, edits, videos, generation
    queue: int = 16  # jobs waiting, beyond which new ones are refused
    live: int = 2  # live-editor renders at once (they skip the queue for speed)
    live_max_side: int = 1280  # the live preview works on the photo at most this large
    points: int = 2  # points-tool clicks, detections and files at once (each takes milliseconds)


@dataclass(frozen=True)
class LiveTabConfig:
    """The Live tab: a photo driven by the visitor's webcam, one frame at a time."""

    slots: int = 1  # live sessions at once across the app; visitors beyond them wait in line
    # Webcam streams handled at once: those with a slot and those told their place in line
    # (each stream holds one while it runs); more wait in Gradio's queue.
    streams: int = 4
    # A webcam frame's size, checked from its header before decoding: a few hundred KB of PNG
    # can declare 12000x12000 pixels (1.2 GB decoded). A 4K webcam fits.
    frame_limits: InputLimits = InputLimits(max_file_bytes=16 * 1024 * 1024,
                                            max_image_pixels=3840 * 2160)
    session_s: int = 60  # a session's time, after which its slot goes to whoever waits
    idle_s: float = 3.0  # a visitor whose frames stop this long (a closed tab) leaves
    frame_interval_s: float = 0.05  # how often the browser sends a webcam frame
    # The webcam size the browser asks for. It JPEG-encodes every frame and sends it whole,
    # twice over (Gradio's stream), while FaceMesh only sees a 320 px crop around the face:
    # 640x480 cost the browser and the server 10-15% more per result (bench/live_speed.py).
    webcam_size: tuple[int, int] = (480, 360)
    driving: LiveConfig = LIVE  # how each photo is driven (the library's settings)


@dataclass(frozen=True)
class ZeroGpuRequest:
    """What a task asks of a ZeroGPU Space on top of its work's own cost."""

    overhead_s: float = 30.0  # moving the networks onto the GPU, first-call warm-up
    max_s: float = 600.0

    def seconds(self, work_s: float) -> float:
        return min(self.overhead_s + work_s, self.max_s)


# The web app serves many users from one machine: shorter videos, smaller uploads.
APP_LIMITS = InputLimits(max_file_bytes=50 * 1024 * 1024, max_video_frames=900,
                         max_video_seconds=30.0, max_video_side=1920)
APP_STORAGE = StorageLimits()
APP_CONCURRENCY = AppConcurrency()
LIVE_TAB = LiveTabConfig()
ZERO_GPU = ZeroGpuRequest()
class WorkEvent(TypedDict):
    concurrency_id: str
    concurrency_limit: int


#: What every work endpoint (transfers, edits, videos, generation, examples included) is
#: given: one shared concurrency limit across the app.
WORK_EVENT = WorkEvent(concurrency_id="work", concurrency_limit=APP_CONCURRENCY.work)
