"""M: an image to its dynamic semantics (head pose, translation, scale, expression deltas) and
the identity's canonical keypoints, with a ConvNeXtV2 backbone."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ConvNeXtBlock, LayerNorm2d
from .network_config import MotionExtractorConfig

#: The linear heads on the pooled features, in the order the published checkpoint lists them.
HEADS = ("kp", "scale", "pitch", "yaw", "roll", "t", "exp")


class ConvNeXtV2(nn.Module):
    """The backbone and its linear heads (named ``detector`` in the published checkpoint)."""

    def __init__(self, config: MotionExtractorConfig):
        super().__init__()
        dims = config.dims
        self.downsample_layers = nn.ModuleList([
            nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4), LayerNorm2d(dims[0])),
            *(nn.Sequential(LayerNorm2d(dims[i - 1]), nn.Conv2d(dims[i - 1], dims[i], 2, stride=2))
              for i in range(1, len(dims))),
        ])
        self.stages = nn.ModuleList(nn.Sequential(*(ConvNeXtBlock(dim) for _ in range(depth)))
                                    for dim, depth in zip(dims, config.depths, strict=True))
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        sizes = {"kp": 3 * config.num_kp, "scale": 1, "pitch": config.num_bins,
                 "yaw": config.num_bins, "roll": config.num_bins, "t": 3, "exp": 3 * config.num_kp}
        for head in HEADS:
            setattr(self, f"fc_{head}", nn.Linear(dims[-1], sizes[head]))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        for down, stage in zip(self.downsample_layers, self.stages, strict=True):
            x = stage(down(x))
        x = self.norm(x.mean(dim=(-2, -1)))
        return {head: getattr(self, f"fc_{head}")(x) for head in HEADS}


class MotionExtractor(nn.Module):
    """(B, 3, 256, 256) in [0, 1] -> raw heads: ``pitch``/``yaw``/``roll`` bin logits,
    ``t`` (B, 3), ``exp`` and ``kp`` (B, 3K), ``scale`` (B, 1)."""

    def __init__(self, config: MotionExtractorConfig):
        super().__init__()
        self.config = config
        self.detector = ConvNeXtV2(config)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.detector(image)
