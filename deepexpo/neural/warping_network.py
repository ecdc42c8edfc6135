"""W: warps the source's appearance volume from the source keypoints to the driving keypoints.

The dense motion network turns the keypoint pairs into a dense 3D flow (a softmax-weighted mix
of per-keypoint translations) and an occlusion map; the warped volume is flattened to 2D
features for the generator.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import Hourglass, SameBlock2d
from .network_config import DenseMotionConfig, WarpingNetworkConfig

KP_VARIANCE = 0.01  # of the Gaussian heatmaps around keypoints, in grid units squared


def coordinate_grid(depth: int, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """(D, H, W, 3) grid of (x, y, z) in [-1, 1], as ``grid_sample`` reads them."""
    axes = [2 * torch.arange(n, dtype=like.dtype, device=like.device) / (n - 1) - 1
            for n in (width, height, depth)]
    z, y, x = torch.meshgrid(axes[2], axes[1], axes[0], indexing="ij")
    return torch.stack([x, y, z], dim=-1)


def grid_sample_3d(volume: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Trilinear sampling of ``volume`` (B, C, D, H, W) at ``grid`` (B, *S, 3) of (x, y, z) in
    [-1, 1] (zeros outside, corners not aligned): (B, C, *S), by :func:`F.grid_sample`."""
    b, *points, _ = grid.shape
    flat = grid.reshape(b, -1, points[-2], points[-1], 3)
    return F.grid_sample(volume, flat, align_corners=False).reshape(b, volume.shape[1], *points)


def gather_grid_sample_3d(volume: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """:func:`grid_sample_3d` as eight row gathers and weights: the same numbers, in operators
    a CPU runtime runs fast (ONNX Runtime's 5-D GridSample is about 5x slower than PyTorch on a
    CPU; OpenVINO runs the gathers 2.4x faster than PyTorch: ``bench/neural_speed.py --runtime``)."""
    b, c, d, h, w = volume.shape
    points = grid.shape[1:-1]
    flat = grid.reshape(b, -1, 3)
    corners = []  # per axis (x, y, z): the two neighbours' clamped indices and weights
    for axis, n in enumerate((w, h, d)):
        at = ((flat[..., axis] + 1) * n - 1) / 2  # voxel coordinate
        low = at.floor()
        frac = at - low
        low = low.long()
        pair = []
        for index, weight in ((low, 1 - frac), (low + 1, frac)):
            inside = (index >= 0) & (index < n)
            pair.append((index.clamp(0, n - 1), weight * inside))
        corners.append(pair)
    rows = volume.permute(0, 2, 3, 4, 1).reshape(-1, c)  # one row per voxel
    first = (torch.arange(b, device=grid.device) * (d * h * w)).view(b, 1)
    out = torch.zeros(b, flat.shape[1], c, dtype=volume.dtype, device=volume.device)
    for (x, wx), (y, wy), (z, wz) in itertools.product(*corners):
        row = first + (z * h + y) * w + x
        out = out + rows[row.reshape(-1)].view(b, -1, c) * (wx * wy * wz)[..., None]
    return out.permute(0, 2, 1).reshape(b, c, *points)


Sampler = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class DenseMotionNetwork(nn.Module):
    sample: Sampler = staticmethod(grid_sample_3d)

    def __init__(self, config: DenseMotionConfig, feature_channel: int, num_kp: int,
                 estimate_occlusion_map: bool):
        super().__init__()
        c = config
        self.num_kp = num_kp
        self.compress = nn.Conv3d(feature_channel, c.compress, 1)
        self.norm = nn.BatchNorm3d(c.compress)
        self.hourglass = Hourglass(c.block_expansion, (num_kp + 1) * (c.compress + 1),
                                   c.num_blocks, c.max_features)
        self.mask = nn.Conv3d(self.hourglass.out_filters, num_kp + 1, 7, padding=3)
        self.occlusion = (nn.Conv2d(self.hourglass.out_filters * c.reshape_depth, 1, 7, padding=3)
                          if estimate_occlusion_map else None)

    def forward(self, feature: torch.Tensor, kp_driving: torch.Tensor,
                kp_source: torch.Tensor) -> dict[str, torch.Tensor]:
        b, _, d, h, w = feature.shape
        feature = F.relu(self.norm(self.compress(feature)))
        grid = coordinate_grid(d, h, w, feature)
        # Where each output voxel comes from if it moved with keypoint k (zero-order motion),
        # with the unmoved grid first for the background.
        shift = (kp_source - kp_driving)[:, :, None, None, None, :]
        sparse = torch.cat([grid.expand(b, 1, d, h, w, 3), grid + shift], dim=1)  # (B,K+1,D,H,W,3)
        deformed = self.sample(feature, sparse).transpose(1, 2)  # (B, K+1, C, D, H, W)
        heatmap = self._gaussian(kp_driving, grid) - self._gaussian(kp_source, grid)
        heatmap = torch.cat([torch.zeros_like(heatmap[:, :1]), heatmap], dim=1).unsqueeze(2)
        prediction = self.hourglass(torch.cat([heatmap, deformed], dim=2).view(b, -1, d, h, w))
        mask = F.softmax(self.mask(prediction), dim=1)
        deformation = (mask.unsqueeze(-1) * sparse).sum(dim=1)  # (B, D, H, W, 3)
        out = {"deformation": deformation}
        if self.occlusion is not None:
            flat = prediction.reshape(b, -1, h, w)
            out["occlusion_map"] = torch.sigmoid(self.occlusion(flat))
        return out

    @staticmethod
    def _gaussian(kp: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        """(B, K, D, H, W) Gaussian bumps around keypoints ``kp`` (B, K, 3)."""
        diff = grid[None, None] - kp[:, :, None, None, None, :]
        return torch.exp(-0.5 * diff.pow(2).sum(-1) / KP_VARIANCE)


class WarpingNetwork(nn.Module):
    """(appearance volume, driving keypoints, source keypoints) -> ``out`` (B, C, H, W)
    features for the generator, ``deformation`` and ``occlusion_map``. :meth:`use_sampler`
    swaps the 3-D sampling for an equivalent (an export's)."""

    sample: Sampler = staticmethod(grid_sample_3d)

    def __init__(self, config: WarpingNetworkConfig):
        super().__init__()
        c = config
        depth = c.dense_motion_params.reshape_depth
        self.dense_motion_network = DenseMotionNetwork(
            c.dense_motion_params, c.reshape_channel, c.num_kp, c.estimate_occlusion_map)
        out_features = c.block_expansion * 2**c.num_down_blocks
        self.third = SameBlock2d(c.reshape_channel * depth, out_features, lrelu=True)
        self.fourth = nn.Conv2d(out_features, out_features, 1)

    def forward(self, feature: torch.Tensor, kp_driving: torch.Tensor,
                kp_source: torch.Tensor) -> dict[str, torch.Tensor]:
        motion = self.dense_motion_network(feature, kp_driving, kp_source)
        out = self.sample(feature, motion["deformation"])
        b, c, d, h, w = out.shape
        out = self.fourth(self.third(out.reshape(b, c * d, h, w)))
        if "occlusion_map" in motion:
            out = out * motion["occlusion_map"]
        return {"out": out, **motion}

    def use_sampler(self, sampler: Sampler) -> None:
        self.sample = self.dense_motion_network.sample = sampler
