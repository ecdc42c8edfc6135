"""G: decodes the warped features into the output image, each layer normalised by SPADE from
the warped features themselves."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import SPADEResnetBlock
from .network_config import SpadeGeneratorConfig

OUT_CHANNELS = 64  # of the last residual block, before the image convolution
MIDDLE_BLOCKS = 6


class SPADEDecoder(nn.Module):
    """(B, C, h, w) warped features -> (B, 3, 4*upscale*h, 4*upscale*w) image in [0, 1]."""

    def __init__(self, config: SpadeGeneratorConfig):
        super().__init__()
        c = config
        ic = min(c.max_features, c.block_expansion * 2**c.num_down_blocks)
        self.fc = nn.Conv2d(ic, 2 * ic, 3, padding=1)
        for i in range(MIDDLE_BLOCKS):
            setattr(self, f"G_middle_{i}", SPADEResnetBlock(2 * ic, 2 * ic, ic))
        self.up_0 = SPADEResnetBlock(2 * ic, ic, ic)
        self.up_1 = SPADEResnetBlock(ic, OUT_CHANNELS, ic)
        if c.upscale > 1:
            self.conv_img: nn.Module = nn.Sequential(nn.Conv2d(OUT_CHANNELS, 3 * c.upscale**2, 3, padding=1),
                                          nn.PixelShuffle(c.upscale))
        else:
            self.conv_img = nn.Conv2d(OUT_CHANNELS, 3, 3, padding=1)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        seg = feature
        x = self.fc(feature)
        for i in range(MIDDLE_BLOCKS):
            x = getattr(self, f"G_middle_{i}")(x, seg)
        x = self.up_0(F.interpolate(x, scale_factor=2), seg)
        x = self.up_1(F.interpolate(x, scale_factor=2), seg)
        return torch.sigmoid(self.conv_img(F.leaky_relu(x, 0.2)))
