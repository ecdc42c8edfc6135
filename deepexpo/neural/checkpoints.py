"""The five networks together, built from a config, loaded from the published ``.pth`` files or
from our own single safetensors file.

Published files are read with ``torch.load(weights_only=True)`` (plain tensors only, never
arbitrary pickled objects) and loaded strictly; the stitching file's three sub-dicts lose the
``module.`` prefix that multi-GPU training left. Spectral norm is folded into plain weights
right after loading: the networks then only run in eval mode.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import CheckpointError
from .appearance_feature_extractor import AppearanceFeatureExtractor
from .blocks import fold_spectral_norm
from .hub_models import LIVEPORTRAIT, LIVEPORTRAIT_FILES
from .motion_extractor import MotionExtractor
from .network_config import NeuralConfig
from .spade_generator import SPADEDecoder
from .stitching_retargeting import StitchingRetargeting
from .warping_network import WarpingNetwork

#: A ``models.yaml`` for published files of another size (the tests' small networks, say).
CONFIG_ENV = "DEEPEXPO_NEURAL_CONFIG"


class LivePortraitNetworks(nn.Module):
    """F, M, W, G and S, named as the published files are."""

    def __init__(self, config: NeuralConfig):
        super().__init__()
        self.config = config
        self.appearance_feature_extractor = AppearanceFeatureExtractor(config.appearance_feature_extractor)
        self.motion_extractor = MotionExtractor(config.motion_extractor)
        self.warping_module = WarpingNetwork(config.warping_module)
        self.spade_generator = SPADEDecoder(config.spade_generator)
        self.stitching_retargeting_module = StitchingRetargeting(config.stitching_retargeting_module)
        self._folded = False

    def fold(self) -> LivePortraitNetworks:
        """Fold spectral norm into plain weights and switch to eval mode (for inference only)."""
        if not self._folded:
            fold_spectral_norm(self)
            self._folded = True
        return self.eval()

    @classmethod
    def from_published(cls, folder: str | os.PathLike, config: NeuralConfig | None = None,
                       fold: bool = True) -> LivePortraitNetworks:
        """Networks with the weights of the published files under ``folder`` (the Hub layout,
        or the five files side by side); ``fold=False`` keeps spectral norm, to train on."""
        nets = cls(config or NeuralConfig.from_yaml())
        paths = LIVEPORTRAIT.paths(Path(folder))
        for name, file in LIVEPORTRAIT_FILES.items():
            path = paths[file]
            state = _load_pth(path)
            if name == "stitching_retargeting_module":
                for attr, key in StitchingRetargeting.CHECKPOINT_KEYS.items():
                    if key not in state:
                        raise CheckpointError(f"'{path.name}' has no '{key}' weights")
                    sub = {k.replace("module.", ""): v for k, v in state[key].items()}
                    _load_strict(getattr(nets.stitching_retargeting_module, attr), sub, path)
            else:
                _load_strict(getattr(nets, name), state, path)
        return nets.fold() if fold else nets

    def published_states(self) -> dict[str, dict]:
        """Each network's state as its published file holds it (by network name): spectral
        norm unfolded, the stitching file's three sub-dicts with multi-GPU training's
        ``module.`` prefix, as the reference trainer wrote them."""
        if self._folded:
            raise ValueError("folded networks no longer hold the published spectral-norm weights")
        s = self.stitching_retargeting_module
        states = {name: getattr(self, name).state_dict() for name in LIVEPORTRAIT_FILES
                  if name != "stitching_retargeting_module"}
        states["stitching_retargeting_module"] = {
            key: {f"module.{k}": v for k, v in getattr(s, attr).state_dict().items()}
            for attr, key in s.CHECKPOINT_KEYS.items()}
        return states

    def save_published(self, folder: str | os.PathLike) -> None:
        """The five files in the published Hub layout under ``folder`` (what
        :func:`load_networks` and the neural engine read), and the config as ``models.yaml``."""
        folder = Path(folder)
        for name, state in self.published_states().items():
            path = folder / LIVEPORTRAIT_FILES[name]
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(state, path)
        # JSON is YAML, and writes the config's tuples as lists
        (folder / "models.yaml").write_text(json.dumps(self.config.to_dict(), indent=1),
                                            encoding="utf-8")

    def save_safetensors(self, path: str | os.PathLike) -> None:
        """All five networks, folded, in one safetensors file that records their config."""
        self.fold()
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(path),
                  metadata={"config": json.dumps(self.config.to_dict())})

    @classmethod
    def from_safetensors(cls, path: str | os.PathLike) -> LivePortraitNetworks:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        config = (NeuralConfig.from_dict(json.loads(meta["config"])) if "config" in meta
                  else NeuralConfig.from_yaml())
        nets = cls(config).fold()
        _load_strict(nets, load_file(str(path)), Path(path))
        return nets


def _load_pth(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file, or one holding more than plain tensors
        raise CheckpointError(f"cannot load '{path}': {str(exc).splitlines()[0]}; "
                              f"{LIVEPORTRAIT.fetch_hint(force=True)}") from exc


def _load_strict(module: nn.Module, state: dict, path: Path) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"'{path.name}' does not fit the network: "
                              f"{' '.join(str(exc).split())[:300]}") from exc


def published_config(folder: Path) -> NeuralConfig | None:
    """The config of the published files in ``folder``: ``DEEPEXPO_NEURAL_CONFIG``, else the
    ``models.yaml`` beside them; ``None`` for the published one."""
    config_file = Path(os.environ.get(CONFIG_ENV) or folder / "models.yaml")
    return NeuralConfig.from_yaml(config_file) if config_file.is_file() else None


def load_networks(path: Path) -> LivePortraitNetworks:
    """Networks from a folder of published files (config: :func:`published_config`) or from
    our safetensors file (which records its config)."""
    if path.is_file():
        return LivePortraitNetworks.from_safetensors(path)
    return LivePortraitNetworks.from_published(path, published_config(path))
