"""The neural engine's published checkpoint files on the Hub (light: no torch)."""

from __future__ import annotations

from ..hub import HubModel, register

#: The five published files (``KwaiVGI/LivePortrait``, MIT), by network. Not the face detector
#: or landmark models: the engine crops with our own landmarks.
LIVEPORTRAIT_FILES = {
    "appearance_feature_extractor": "liveportrait/base_models/appearance_feature_extractor.pth",
    "motion_extractor": "liveportrait/base_models/motion_extractor.pth",
    "warping_module": "liveportrait/base_models/warping_module.pth",
    "spade_generator": "liveportrait/base_models/spade_generator.pth",
    "stitching_retargeting_module": "liveportrait/retargeting_models/stitching_retargeting_module.pth",
}

LIVEPORTRAIT = register(HubModel(
    name="neural",
    description="the LivePortrait networks",
    enables="the neural engine",
    repo_id="KwaiVGI/LivePortrait",
    files=tuple(LIVEPORTRAIT_FILES.values()),
    size_mb=523,
    packed="liveportrait.safetensors",
))
