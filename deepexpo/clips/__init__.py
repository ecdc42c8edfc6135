"""Training data for the neural engine's networks: raw videos cut into face-cropped clips of
one person each (``python -m deepexpo prepare-videos``), listed in ``clips.json``."""

from .index import INDEX_NAME, ClipRecord, ClipsIndex
from .prepare import CLIP_SIZES, ClipOptions, VideoSummary, prepare_videos

__all__ = ["CLIP_SIZES", "INDEX_NAME", "ClipOptions", "ClipRecord", "ClipsIndex", "VideoSummary",
           "prepare_videos"]
