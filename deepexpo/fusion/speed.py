"""Generation's two speeds, and which one a request gets. Light (no torch or diffusers import):
the command line and the app read it before anything heavy loads.

*quality* runs Stable Diffusion 1.5 as published: 30 steps, classifier-free guidance (two U-Net
passes a step) and the full VAE. *fast* runs a few-step distillation LoRA fused into the same
U-Net (see :mod:`.few_step`): 4 steps, guidance off (one pass a step) and the tiny autoencoder.
On a CPU only *fast* is worth waiting for (under a minute rather than about nine); on a GPU
*quality* takes a few seconds, so it is the default there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .. import hub
from ..errors import InputError

logger = logging.getLogger(__name__)

FAST = "fast"
QUALITY = "quality"
AUTO = "auto"  # fast on a CPU, quality on a GPU
SPEEDS = (FAST, QUALITY)

FAST_MODELS = ("lcm-lora", "taesd")  # the LoRA, then the (optional) tiny autoencoder


@dataclass(frozen=True)
class SpeedSettings:
    """A speed's default number of steps and guidance scale (a request may set its own)."""

    steps: int
    guidance: float
    max_steps: int = 200


QUALITY_SETTINGS = SpeedSettings(steps=30, guidance=7.5)
# The LCM-LoRA authors use 2-8 steps and guidance 1-2; 1.0 turns guidance off. LCMScheduler
# takes at most its 50 original (distillation) steps.
FAST_SETTINGS = SpeedSettings(steps=4, guidance=1.0, max_steps=50)
SETTINGS = {FAST: FAST_SETTINGS, QUALITY: QUALITY_SETTINGS}


def default_speed(on_gpu: bool) -> str:
    return QUALITY if on_gpu else FAST


def obtainable(name: str) -> bool:
    """Whether a Hub model is on disk or would be fetched on first use (disk only, no network)."""
    return hub.MODELS[name].locate() is not None or hub.auto_download_allowed()


def resolve_speed(speed: str, on_gpu: bool) -> str:
    """``fast`` or ``quality`` for a requested ``fast``, ``quality`` or ``auto``. ``auto`` falls
    back to quality, with a warning, where the fast mode's LoRA can be neither found nor
    fetched; an explicit ``fast`` then fails when its models are required."""
    if speed not in (*SPEEDS, AUTO):
        raise InputError(f"speed must be one of {', '.join((*SPEEDS, AUTO))}, not '{speed}'")
    if speed != AUTO:
        return speed
    chosen = default_speed(on_gpu)
    if chosen == FAST and not obtainable(FAST_MODELS[0]):
        logger.warning("%s; generating in the quality mode (slow on a CPU)",
                       hub.MODELS[FAST_MODELS[0]].missing_message())
        return QUALITY
    return chosen


def fast_models(tiny_vae: bool) -> list[str]:
    """The Hub models the fast mode loads: the LoRA, and the tiny autoencoder when asked for
    and obtainable (else the full VAE decodes, with a warning)."""
    lora, autoencoder = FAST_MODELS
    if tiny_vae and not obtainable(autoencoder):
        logger.warning("%s; decoding with the full VAE", hub.MODELS[autoencoder].missing_message())
        tiny_vae = False
    return [lora] + [autoencoder] * tiny_vae
