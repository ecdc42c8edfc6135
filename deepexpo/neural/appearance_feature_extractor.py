"""F: the source image to a 3D appearance feature volume (the identity half of the split)."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import DownBlock2d, ResBlock3d, SameBlock2d
from .network_config import AppearanceFeatureExtractorConfig


class AppearanceFeatureExtractor(nn.Module):
    """(B, 3, H, W) in [0, 1] -> (B, reshape_channel, reshape_depth, H/4, W/4)."""

    def __init__(self, config: AppearanceFeatureExtractorConfig):
        super().__init__()
        c = config
        self.config = c
        self.first = SameBlock2d(c.image_channel, c.block_expansion)
        widths = [min(c.max_features, c.block_expansion * 2**i) for i in range(c.num_down_blocks + 1)]
        self.down_blocks = nn.ModuleList(DownBlock2d(widths[i], widths[i + 1])
                                         for i in range(c.num_down_blocks))
        self.second = nn.Conv2d(widths[-1], c.max_features, 1)
        self.resblocks_3d = nn.Sequential()
        for i in range(c.num_resblocks):
            self.resblocks_3d.add_module(f"3dr{i}", ResBlock3d(c.reshape_channel))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        out = self.first(image)
        for block in self.down_blocks:
            out = block(out)
        out = self.second(out)
        b, _, h, w = out.shape
        out = out.view(b, self.config.reshape_channel, self.config.reshape_depth, h, w)
        return self.resblocks_3d(out)
