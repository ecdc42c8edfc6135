"""Hyperparameters of the neural engine's networks, read from a ``models.yaml`` in the published
LivePortrait schema (``model_params.<network>_params``).

``models.yaml`` next to this file holds the published full-size values. Keys the published file
leaves to the code (the ConvNeXtV2 depths and widths, the number of pose bins) have the
published defaults here.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

PUBLISHED_CONFIG = Path(__file__).with_name("models.yaml")


def _build(cls: type, values: dict[str, Any]) -> Any:
    """A config dataclass from a mapping, ignoring keys the networks do not use (``backbone``)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v
                  for k, v in values.items() if k in names})


@dataclass(frozen=True)
class AppearanceFeatureExtractorConfig:
    image_channel: int
    block_expansion: int
    num_down_blocks: int
    max_features: int
    reshape_channel: int
    reshape_depth: int
    num_resblocks: int


@dataclass(frozen=True)
class MotionExtractorConfig:
    num_kp: int
    depths: tuple[int, ...] = (3, 3, 9, 3)  # ConvNeXtV2-tiny
    dims: tuple[int, ...] = (96, 192, 384, 768)
    num_bins: int = 66  # pose-angle bins of 3 degrees


@dataclass(frozen=True)
class DenseMotionConfig:
    block_expansion: int
    max_features: int
    num_blocks: int
    reshape_depth: int
    compress: int


@dataclass(frozen=True)
class WarpingNetworkConfig:
    num_kp: int
    block_expansion: int
    max_features: int
    num_down_blocks: int
    reshape_channel: int
    dense_motion_params: DenseMotionConfig
    estimate_occlusion_map: bool = True


@dataclass(frozen=True)
class SpadeGeneratorConfig:
    upscale: int
    block_expansion: int
    max_features: int
    num_down_blocks: int


@dataclass(frozen=True)
class MLPConfig:
    input_size: int
    hidden_sizes: tuple[int, ...]
    output_size: int


@dataclass(frozen=True)
class StitchingRetargetingConfig:
    stitching: MLPConfig
    lip: MLPConfig
    eye: MLPConfig


@dataclass(frozen=True)
class NeuralConfig:
    appearance_feature_extractor: AppearanceFeatureExtractorConfig
    motion_extractor: MotionExtractorConfig
    warping_module: WarpingNetworkConfig
    spade_generator: SpadeGeneratorConfig
    stitching_retargeting_module: StitchingRetargetingConfig = field(repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NeuralConfig:
        p = data["model_params"]
        warping = dict(p["warping_module_params"])
        warping["dense_motion_params"] = _build(DenseMotionConfig, warping["dense_motion_params"])
        mlps = p["stitching_retargeting_module_params"]
        return cls(
            _build(AppearanceFeatureExtractorConfig, p["appearance_feature_extractor_params"]),
            _build(MotionExtractorConfig, p["motion_extractor_params"]),
            _build(WarpingNetworkConfig, warping),
            _build(SpadeGeneratorConfig, p["spade_generator_params"]),
            StitchingRetargetingConfig(*(_build(MLPConfig, mlps[k]) for k in ("stitching", "lip", "eye"))),
        )

    def to_dict(self) -> dict[str, Any]:
        """The config in the published schema (what :meth:`from_dict` reads)."""
        params = {f"{f.name}_params": asdict(getattr(self, f.name)) for f in fields(self)}
        return {"model_params": params}

    @classmethod
    def from_yaml(cls, path: str | os.PathLike = PUBLISHED_CONFIG) -> NeuralConfig:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(yaml.safe_load(f))
