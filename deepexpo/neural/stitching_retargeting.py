"""S: small MLPs that correct the driven keypoints: stitching (keeps the face aligned with the
pasted-back frame), and eye and lip retargeting (open or close them to a given ratio)."""

from __future__ import annotations

import torch
from torch import nn

from .network_config import MLPConfig, StitchingRetargetingConfig


class RetargetingMLP(nn.Module):
    def __init__(self, config: MLPConfig):
        super().__init__()
        sizes = [config.input_size, *config.hidden_sizes, config.output_size]
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


class StitchingRetargeting(nn.Module):
    """The three MLPs; the published file stores them as ``retarget_shoulder`` (stitching),
    ``retarget_mouth`` (lip) and ``retarget_eye`` (eye)."""

    CHECKPOINT_KEYS = {"stitching": "retarget_shoulder", "lip": "retarget_mouth",
                       "eye": "retarget_eye"}

    def __init__(self, config: StitchingRetargetingConfig):
        super().__init__()
        self.stitching = RetargetingMLP(config.stitching)
        self.lip = RetargetingMLP(config.lip)
        self.eye = RetargetingMLP(config.eye)
