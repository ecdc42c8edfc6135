"""The losses of self-supervised frame-pair training (as FOMM and face-vid2vid train):
reconstruction of the driving frame, L1 plus a VGG19 perceptual loss when VGG19's weights are
on disk, a multi-scale pixel loss otherwise; and keypoint equivariance under a random
affine + thin-plate-spline warp of the frame.

VGG19 is never downloaded: its torchvision file is looked for at ``DEEPEXPO_VGG19_WEIGHTS``, then
in torch's hub cache (``~/.cache/torch/hub/checkpoints/vgg19-dcbb9e9d.pth``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CheckpointError

logger = logging.getLogger(__name__)

VGG19_ENV = "DEEPEXPO_VGG19_WEIGHTS"
VGG19_FILE = "vgg19-dcbb9e9d.pth"  # torchvision's ImageNet weights
#: VGG19's convolutions (widths, ``M`` a max-pool), numbered as torchvision's ``features``.
_VGG19_LAYERS = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
                 512, 512, 512, 512)
_VGG19_TAPS = (1, 6, 11, 20, 29)  # relu1_1 .. relu5_1, FOMM's perceptual layers
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
PYRAMID_SCALES = (1, 2, 4, 8)  # downsampling factors of the multi-scale losses
VGG19_MIN_SIDE = 16  # its four poolings before relu5_1


def vgg19_weights() -> Path | None:
    """Where VGG19's weights are on disk, if they are."""
    override = os.environ.get(VGG19_ENV)
    candidates = [Path(override)] if override else []
    candidates.append(Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE)
    return next((p for p in candidates if p.is_file()), None)


def pyramid(image: torch.Tensor) -> list[torch.Tensor]:
    """The image at each of :data:`PYRAMID_SCALES` (area-averaged, so without aliasing)."""
    return [image if f == 1 else F.avg_pool2d(image, f) for f in PYRAMID_SCALES
            if min(image.shape[-2:]) // f >= 8]


class VGG19Features(nn.Module):
    """VGG19's activations at relu1_1 .. relu5_1 of an image in [0, 1]."""

    def __init__(self, weights: Path):
        super().__init__()
        layers: list[nn.Module] = []
        width = 3
        for spec in _VGG19_LAYERS:
            if spec == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(width, int(spec), 3, padding=1), nn.ReLU()]
                width = int(spec)
        self.features = nn.Sequential(*layers[: _VGG19_TAPS[-1] + 1])
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            self.features.load_state_dict(
                {k.removeprefix("features."): v for k, v in state.items()
                 if k.startswith("features.") and int(k.split(".")[1]) <= _VGG19_TAPS[-1]})
        except Exception as exc:  # damaged, or not VGG19's
            raise CheckpointError(f"cannot load VGG19 from '{weights}': "
                                  f"{' '.join(str(exc).split())[:200]}") from exc
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False).eval()

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        out, taps = (image - self.mean) / self.std, []
        for index, layer in enumerate(self.features):
            out = layer(out)
            if index in _VGG19_TAPS:
                taps.append(out)
        return taps


class ReconstructionLoss(nn.Module):
    """``l1`` between the prediction and the target, and ``perceptual`` (VGG19 features over
    the pyramid) or, without VGG19's weights, ``pyramid`` (L1 over the coarser scales)."""

    def __init__(self, vgg_weights: Path | None):
        super().__init__()
        self.vgg = VGG19Features(vgg_weights) if vgg_weights is not None else None
        self.description = (f"L1 + VGG19 perceptual ({vgg_weights})" if self.vgg is not None else
                            "L1 + multi-scale pixel L1 (no VGG19 weights on disk: set "
                            f"{VGG19_ENV} to torchvision's {VGG19_FILE} for a perceptual loss)")

    def train(self, mode: bool = True) -> ReconstructionLoss:
        super().train(mode)
        if self.vgg is not None:
            self.vgg.eval()  # fixed, whatever the trainer's mode
        return self

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        losses = {"l1": (prediction - target).abs().mean()}
        pred_levels, target_levels = pyramid(prediction), pyramid(target)
        if self.vgg is None:
            losses["pyramid"] = sum(((p - t).abs().mean() for p, t in
                                     zip(pred_levels[1:], target_levels[1:], strict=True)),
                                    torch.zeros((), device=prediction.device))
            return losses
        total = torch.zeros((), device=prediction.device)
        for p, t in zip(pred_levels, target_levels, strict=True):
            if min(p.shape[-2:]) < VGG19_MIN_SIDE:
                break
            with torch.no_grad():
                t_features = self.vgg(t)
            for pf, tf in zip(self.vgg(p), t_features, strict=True):
                total = total + (pf - tf).abs().mean()
        losses["perceptual"] = total
        return losses


def pixel_grid(height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """(H*W, 2) pixel centres as ``grid_sample`` (``align_corners=False``) reads them."""
    ys = (2 * torch.arange(height, dtype=like.dtype, device=like.device) + 1) / height - 1
    xs = (2 * torch.arange(width, dtype=like.dtype, device=like.device) + 1) / width - 1
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([x, y], dim=-1).view(-1, 2)


class RandomWarp:
    """A random affine + thin-plate-spline warp per batch item (FOMM's equivariance
    transform): ``warp_points`` maps coordinates, ``warp_frame`` samples the frame there, so a
    keypoint ``p`` found in the warped frame sits at ``warp_points(p)`` in the original."""

    def __init__(self, batch: int, generator: torch.Generator, device: torch.device,
                 sigma_affine: float = 0.05, sigma_tps: float = 0.005, points_tps: int = 5):
        noise = torch.randn(batch, 2, 3, generator=generator) * sigma_affine
        self.theta = (noise + torch.eye(2, 3)).to(device)
        axis = torch.linspace(-1, 1, points_tps)
        y, x = torch.meshgrid(axis, axis, indexing="ij")
        self.control = torch.stack([x, y], dim=-1).view(-1, 2).to(device)
        self.params = (torch.randn(batch, 1, points_tps**2, generator=generator)
                       * sigma_tps).to(device)

    def warp_points(self, points: torch.Tensor) -> torch.Tensor:
        """(B, N, 2) -> (B, N, 2)."""
        theta = self.theta.to(points.dtype)
        out = points @ theta[:, :, :2].transpose(1, 2) + theta[:, None, :, 2]
        distances = (points[:, :, None] - self.control.to(points.dtype)[None, None]).abs().sum(-1)
        tps = distances**2 * torch.log(distances + 1e-6) * self.params.to(points.dtype)
        return out + tps.sum(dim=2, keepdim=True)

    def warp_frame(self, frame: torch.Tensor) -> torch.Tensor:
        b, _, h, w = frame.shape
        grid = self.warp_points(pixel_grid(h, w, frame).expand(b, -1, -1)).view(b, h, w, 2)
        return F.grid_sample(frame, grid, padding_mode="reflection", align_corners=False)


def equivariance_loss(keypoints: torch.Tensor, warped_keypoints: torch.Tensor,
                      warp: RandomWarp) -> torch.Tensor:
    """L1 between a frame's keypoints (image-plane x, y) and those found in its warped copy,
    mapped back."""
    return (keypoints[..., :2] - warp.warp_points(warped_keypoints[..., :2])).abs().mean()
