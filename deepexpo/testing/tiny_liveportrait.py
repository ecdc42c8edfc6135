"""Tiny random LivePortrait networks (no download), and the published file layout they are
written in, for the neural engine's and the Hub's tests."""

from __future__ import annotations

from pathlib import Path

import torch

from deepexpo.neural.checkpoints import LivePortraitNetworks
from deepexpo.neural.network_config import NeuralConfig

TINY = {"model_params": {
    "appearance_feature_extractor_params": {"image_channel": 3, "block_expansion": 4,
                                            "num_down_blocks": 2, "max_features": 16,
                                            "reshape_channel": 2, "reshape_depth": 8,
                                            "num_resblocks": 1},
    "motion_extractor_params": {"num_kp": 21, "depths": [1, 1, 1, 1], "dims": [4, 8, 8, 16]},
    "warping_module_params": {"num_kp": 21, "block_expansion": 4, "max_features": 16,
                              "num_down_blocks": 2, "reshape_channel": 2,
                              "estimate_occlusion_map": True,
                              "dense_motion_params": {"block_expansion": 2, "max_features": 8,
                                                      "num_blocks": 2, "reshape_depth": 8,
                                                      "compress": 1}},
    "spade_generator_params": {"upscale": 2, "block_expansion": 4, "max_features": 16,
                               "num_down_blocks": 2},
    "stitching_retargeting_module_params": {
        "stitching": {"input_size": 126, "hidden_sizes": [8], "output_size": 65},
        "lip": {"input_size": 65, "hidden_sizes": [8], "output_size": 63},
        "eye": {"input_size": 66, "hidden_sizes": [8], "output_size": 63}},
}}


def tiny_networks(seed: int = 0, fold: bool = True) -> LivePortraitNetworks:
    """``fold=False`` keeps spectral norm as trained (what the published files hold)."""
    torch.manual_seed(seed)
    nets = LivePortraitNetworks(NeuralConfig.from_dict(TINY))
    for m in nets.modules():  # non-trivial batch-norm statistics
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.running_var is not None \
                and m.running_mean is not None:
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return nets.fold() if fold else nets.eval()


def published_state(nets: LivePortraitNetworks, folder: Path) -> None:
    """Write ``nets`` (unfolded) as the five published files side by side."""
    for name, state in nets.published_states().items():
        torch.save(state, folder / f"{name}.pth")
