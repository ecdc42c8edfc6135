"""Text-prompted generation of the identity person with a reference's expression and pose.

A diffusers Stable Diffusion 1.5 pipeline whose U-Net cross-attention has parallel branches
(diffusers' IP-Adapter processors, see :mod:`.attention`): ``identity`` (IP-Adapter plus-face
tokens from a CLIP encoding of the identity's face crop; public weights ``h94/IP-Adapter``) and
``semantic`` (tokens projected from the reference's disentangled expression and pose; weights
from ``train fusion``). The public route for expression and pose is the MediaPipe-face
ControlNet, conditioned on the reference's landmarks. The expression/pose strength drives
whichever of the two is loaded.

Two speeds (:mod:`.speed`): *quality* (SD 1.5 as published) and *fast* (a few-step LoRA fused
into the same U-Net, :mod:`.few_step`), the same branches in both. One request runs at a time
per pipeline (its modules and scheduler hold state); a request can be cancelled between steps.

Split as diffusers splits things: :mod:`.loading` finds and assembles the models,
:mod:`.conditioning` turns a request's images into branch inputs, and :class:`FusionPipeline`
only validates a request and runs the denoising.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, StableDiffusionPipeline
from PIL import Image
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

from ..checks import check_number
from ..errors import DeepExPoError, InputError
from .conditioning import FaceConditioner, branch_input_dim
from .few_step import SpeedSwitch
from .loading import IDENTITY, IdentityBranch, attach_branches, load_models
from .speed import AUTO, FAST, QUALITY, SETTINGS, SPEEDS, default_speed
from .threads import size_torch_threads

#: Each setting's allowed range: (name in messages, low, high).
_RANGES = {"identity_strength": ("identity strength", 0.0, 1.5),
           "semantic_strength": ("expression/pose strength", 0.0, 1.5),
           "guidance": ("guidance", 0.0, 30.0),
           "seed": ("seed", 0, 2**63 - 1)}  # steps: the speed's (.speed.SpeedSettings)


class GenerationCancelled(DeepExPoError):
    """The request's cancel event was set; raised between denoising steps."""


@dataclass
class FusionPipeline:
    """``pipe`` with branches loaded (named in ``branches``, in load order) and the
    ``conditioner`` that feeds them."""

    pipe: StableDiffusionPipeline
    branches: tuple[str, ...] = ()
    states: tuple[dict, ...] = ()  # each branch's weights as loaded, to load them again
    conditioner: FaceConditioner = field(default_factory=FaceConditioner)
    speeds: SpeedSwitch | None = None  # the fast mode, where its LoRA was loaded
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.pipe.set_progress_bar_config(disable=True)  # progress goes through ``progress``

    @classmethod
    def assemble(cls, pipe: StableDiffusionPipeline,
                 identity: tuple[dict, CLIPVisionModelWithProjection, CLIPImageProcessor] | None = None,
                 semantic: dict | None = None,
                 controlnet: ControlNetModel | None = None,
                 speeds: SpeedSwitch | None = None) -> FusionPipeline:
        """Load the branches into ``pipe`` (nested IP-Adapter state dicts; ``identity`` as
        (state, image encoder, image processor)) and switch to the ControlNet pipeline when
        given one. See :func:`.loading.attach_branches`. ``speeds``: the fast mode, its LoRA
        already loaded into ``pipe`` (:meth:`.few_step.SpeedSwitch.load`)."""
        identity = IdentityBranch(*identity) if identity is not None else None
        assembled = attach_branches(pipe, identity, semantic, controlnet)
        conditioner = (FaceConditioner(identity.image_encoder, identity.image_processor)
                       if identity is not None else FaceConditioner())
        return cls(assembled.pipe, assembled.branches, assembled.states, conditioner, speeds)

    @classmethod
    def from_pretrained(cls, base: str | os.PathLike | None = None, identity: bool = True,
                        semantic_weights: str | os.PathLike | None = None,
                        controlnet: bool = False, device: str | None = None,
                        fast: bool = False, tiny_vae: bool = True) -> FusionPipeline:
        """The real models (see :func:`.loading.load_models`; ``fast``: with the fast mode's),
        assembled. A missing model is a one-line
        :class:`~deepexpo.errors.ModelNotAvailableError`."""
        models = load_models(base, identity, semantic_weights, controlnet, device, fast, tiny_vae)
        return cls.assemble(models.pipe, models.identity, models.semantic, models.controlnet,
                            models.speeds)

    def resolve_speed(self, speed: str) -> str:
        """``fast`` or ``quality``: ``auto`` is fast on a CPU where the fast mode is loaded."""
        if speed == AUTO:
            return default_speed(self.pipe.device.type == "cuda") if self.speeds else QUALITY
        if speed not in SPEEDS:
            raise InputError(f"speed must be one of {', '.join((*SPEEDS, AUTO))}, not '{speed}'")
        if speed == FAST and self.speeds is None:
            raise InputError("the fast mode is not loaded (its LoRA is missing): choose quality")
        return speed

    def __call__(self, *, prompt: str, identity_image: np.ndarray | None = None,
                 reference_image: np.ndarray | None = None, identity_strength: float = 0.8,
                 semantic_strength: float = 0.8, steps: int | None = None,
                 guidance: float | None = None, seed: int = 0, negative_prompt: str = "",
                 size: int | None = None, speed: str = AUTO,
                 progress: Callable[[int, int], None] | None = None,
                 cancel: threading.Event | None = None) -> np.ndarray:
        """(size, size, 3) uint8 image. A strength of 0 turns its branch off exactly; a branch
        without its image is off too. ``speed``: ``fast``, ``quality`` or ``auto``; ``steps``
        and ``guidance`` default to the speed's. Setting ``cancel`` stops the denoising at the
        end of the current step with :class:`GenerationCancelled`."""
        speed = self.resolve_speed(speed)
        steps = SETTINGS[speed].steps if steps is None else steps
        guidance = SETTINGS[speed].guidance if guidance is None else guidance
        settings = {"identity_strength": identity_strength, "semantic_strength": semantic_strength,
                    "steps": steps, "guidance": guidance, "seed": seed}
        ranges = {**_RANGES, "steps": (f"steps in the {speed} mode", 1, SETTINGS[speed].max_steps)}
        for key, (name, low, high) in ranges.items():
            check_number(name, settings[key], low, high, integer=key in ("steps", "seed"))
        steps, seed = int(steps), int(seed)
        size = size or self.pipe.unet.config.sample_size * self.pipe.vae_scale_factor
        size = int(check_number("size", size, 8, 2048, integer=True))
        if size % 8:
            raise InputError(f"size must be a multiple of 8, not {size}")
        with self._lock:
            if self.speeds is not None:
                self.speeds.use(self.pipe, speed == FAST)
            if self.pipe.device.type == "cpu":
                size_torch_threads()
            return self._generate(prompt, identity_image, reference_image, identity_strength,
                                  semantic_strength, steps, guidance, seed, negative_prompt, size,
                                  progress, cancel)

    def _generate(self, prompt: str, identity_image: np.ndarray | None,
                  reference_image: np.ndarray | None, identity_strength: float,
                  semantic_strength: float, steps: int, guidance: float, seed: int,
                  negative_prompt: str, size: int,
                  progress: Callable[[int, int], None] | None,
                  cancel: threading.Event | None) -> np.ndarray:
        semantic_scale = semantic_strength if reference_image is not None else 0.0
        kwargs = self._branch_inputs(identity_image, reference_image,
                                     identity_strength if identity_image is not None else 0.0,
                                     semantic_scale, with_negative=guidance > 1)
        if isinstance(self.pipe, StableDiffusionControlNetPipeline):
            kwargs["image"] = Image.fromarray(self.conditioner.control_image(reference_image, size))
            kwargs["controlnet_conditioning_scale"] = semantic_scale

        def on_step(pipe, i, t, callback_kwargs):  # diffusers' callback signature
            if progress is not None:
                progress(i + 1, steps)
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled(f"generation cancelled after step {i + 1} of {steps}")
            return callback_kwargs

        kwargs["callback_on_step_end"] = on_step
        result = self.pipe(prompt, negative_prompt=negative_prompt or None, num_inference_steps=steps,
                           guidance_scale=guidance, height=size, width=size, output_type="np",
                           generator=torch.Generator("cpu").manual_seed(seed), **kwargs)
        return (np.clip(result.images[0], 0, 1) * 255).round().astype(np.uint8)

    def _branch_inputs(self, identity_image: np.ndarray | None,
                       reference_image: np.ndarray | None, identity_scale: float,
                       semantic_scale: float, with_negative: bool) -> dict:
        """Set each branch's scale and return the pipeline's ``ip_adapter_image_embeds``
        (with the unconditional half only when classifier-free guidance is on)."""
        if not self.branches:
            return {}
        scales, embeds = [], []
        for index, branch in enumerate(self.branches):
            if branch == IDENTITY:
                scales.append(identity_scale)
                embeds.append(self.conditioner.identity_embeds(identity_image))
            else:
                scales.append(semantic_scale)
                embeds.append(self.conditioner.semantic_embeds(
                    reference_image, branch_input_dim(self.pipe.unet, index)))
        self.pipe.set_ip_adapter_scale(scales)
        embeds = [e.to(self.pipe.device, self.pipe.unet.dtype) for e in embeds]
        return {"ip_adapter_image_embeds": embeds if with_negative else [e[1:] for e in embeds]}

    def unload(self) -> None:
        """Back to the plain text-to-image U-Net."""
        if self.branches:
            self.pipe.unload_ip_adapter()
            self.branches, self.states = (), ()
