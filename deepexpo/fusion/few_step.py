"""The fast mode's parts: a few-step distillation LoRA fused into the U-Net, the scheduler it was
distilled for, and the tiny autoencoder.

The LoRA changes only the weights of the U-Net's linear and convolution layers (attention
projections, feed-forwards, resnet convolutions), never its attention processors, so the
identity and semantic branches (IP-Adapter processors, loaded after it) and the ControlNet
(which reads the U-Net's input, not its weights) run unchanged on top of it. Fused, a step costs
exactly what a plain U-Net step costs. One pipeline serves both speeds: switching fuses or
unfuses the LoRA in place (seconds, no reload). Unfusing subtracts what fusing added, so each
switch rounds the weights once: about 1e-7 relative in fp32, up to half a unit in the last
place in fp16/bf16. The LoRA's own weights stay loaded (0.27 GB in fp32 for LCM-LoRA).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path

from diffusers import AutoencoderKL, AutoencoderTiny, LCMScheduler, StableDiffusionPipeline
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from .hub_models import FAST_LORA_WEIGHTS

ADAPTER = "few-step"  # the LoRA's adapter name inside the U-Net


@dataclass(frozen=True)
class FewStepLoRA:
    """A published few-step LoRA for SD 1.5 and how its authors run it."""

    weight_name: str
    scheduler: type[SchedulerMixin]
    scheduler_options: dict = field(default_factory=dict)


#: ``latent-consistency/lcm-lora-sdv1-5`` (openrail++): 2-8 steps with ``LCMScheduler``
#: (the steps and guidance it runs with: :data:`.speed.FAST_SETTINGS`).
LCM_LORA = FewStepLoRA(FAST_LORA_WEIGHTS, LCMScheduler)


@dataclass
class SpeedSwitch:
    """Both speeds of one loaded pipeline: what each uses, and whether the LoRA is fused now."""

    recipe: FewStepLoRA
    fast_scheduler: SchedulerMixin
    quality_scheduler: SchedulerMixin
    full_vae: AutoencoderKL
    tiny_vae: AutoencoderTiny | None = None
    fused: bool = False

    @classmethod
    def load(cls, pipe: StableDiffusionPipeline, lora: Path | dict, tiny_vae: Path | None = None,
             recipe: FewStepLoRA = LCM_LORA) -> SpeedSwitch:
        """Load the LoRA (a folder holding ``recipe.weight_name``, or a state dict) into
        ``pipe``'s U-Net, switched off, and the tiny autoencoder from its folder. Call before
        the branches are attached (:func:`.loading.attach_branches`)."""
        # Into the U-Net only: these LoRAs train no text-encoder layers.
        state, alphas = pipe.lora_state_dict(
            dict(lora) if isinstance(lora, dict) else str(lora),
            weight_name=recipe.weight_name, local_files_only=True)
        pipe.load_lora_into_unet(state, alphas, pipe.unet, adapter_name=ADAPTER, _pipeline=pipe)
        pipe.unet.disable_lora()
        vae = None
        if tiny_vae is not None:
            vae = AutoencoderTiny.from_pretrained(tiny_vae, dtype=pipe.unet.dtype,
                                                  local_files_only=True).to(pipe.device)
        # Only the settings it takes (SD 1.5's PNDM ones, e.g. skip_prk_steps, would be warned of).
        accepted = inspect.signature(recipe.scheduler.__init__).parameters
        config = {k: v for k, v in pipe.scheduler.config.items() if k in accepted}
        scheduler = recipe.scheduler.from_config(config, **recipe.scheduler_options)
        return cls(recipe, scheduler, pipe.scheduler, pipe.vae, vae)

    def use(self, pipe: StableDiffusionPipeline, fast: bool) -> None:
        """Put ``pipe`` in the fast or the quality mode: LoRA fused or off, its scheduler, its
        autoencoder. (The order matters to peft: a disabled adapter unmerges itself.)"""
        unet = pipe.unet
        if fast and not self.fused:
            unet.enable_lora()
            unet.fuse_lora(adapter_names=[ADAPTER])
            self.fused = True
        elif not fast and self.fused:
            unet.unfuse_lora()
            unet.disable_lora()
            self.fused = False
        pipe.scheduler = self.fast_scheduler if fast else self.quality_scheduler
        pipe.vae = self.tiny_vae if fast and self.tiny_vae is not None else self.full_vae
