"""Text-prompted generation of the identity person with a reference's expression and pose.

A diffusers Stable Diffusion 1.5 pipeline whose U-Net cross-attention has parallel branches
(diffusers' IP-Adapter processors, see :mod:`.attention`): ``identity`` (IP-Adapter plus-face
tokens from a CLIP encoding of the identity's face crop; public weights ``h94/IP-Adapter``) and
``semantic`` (tokens projected from the reference's disentangled expression and pose; weights
from ``train fusion``). The public route for expression and pose is the MediaPipe-face
ControlNet, conditioned on the reference's landmarks. The expression/pose strength drives
whichever of the two is loaded.

Split as diffusers splits things: :mod:`.loading` finds and assembles the models,
:mod:`.conditioning` turns a request's images into branch inputs, and :class:`FusionPipeline`
only validates a request and runs the denoising.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, StableDiffusionPipeline
from PIL import Image
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

from ..checks import check_number
from ..errors import InputError
from .conditioning import FaceConditioner, branch_input_dim
from .loading import IDENTITY, IdentityBranch, attach_branches, load_models

#: Each setting's allowed range: (name in messages, low, high).
_RANGES = {"identity_strength": ("identity strength", 0.0, 1.5),
           "semantic_strength": ("expression/pose strength", 0.0, 1.5),
           "steps": ("steps", 1, 200), "guidance": ("guidance", 0.0, 30.0),
           "seed": ("seed", 0, 2**63 - 1)}


@dataclass
class FusionPipeline:
    """``pipe`` with branches loaded (named in ``branches``, in load order) and the
    ``conditioner`` that feeds them."""

    pipe: StableDiffusionPipeline
    branches: tuple[str, ...] = ()
    states: tuple[dict, ...] = ()  # each branch's weights as loaded, to load them again
    conditioner: FaceConditioner = field(default_factory=FaceConditioner)

    @classmethod
    def assemble(cls, pipe: StableDiffusionPipeline,
                 identity: tuple[dict, CLIPVisionModelWithProjection, CLIPImageProcessor] | None = None,
                 semantic: dict | None = None,
                 controlnet: ControlNetModel | None = None) -> FusionPipeline:
        """Load the branches into ``pipe`` (nested IP-Adapter state dicts; ``identity`` as
        (state, image encoder, image processor)) and switch to the ControlNet pipeline when
        given one. See :func:`.loading.attach_branches`."""
        identity = IdentityBranch(*identity) if identity is not None else None
        assembled = attach_branches(pipe, identity, semantic, controlnet)
        conditioner = (FaceConditioner(identity.image_encoder, identity.image_processor)
                       if identity is not None else FaceConditioner())
        return cls(assembled.pipe, assembled.branches, assembled.states, conditioner)

    @classmethod
    def from_pretrained(cls, base: str | os.PathLike | None = None, identity: bool = True,
                        semantic_weights: str | os.PathLike | None = None,
                        controlnet: bool = False, device: str | None = None) -> FusionPipeline:
        """The real models (see :func:`.loading.load_models`), assembled. A missing model is
        a one-line :class:`~deepexpo.errors.ModelNotAvailableError`."""
        models = load_models(base, identity, semantic_weights, controlnet, device)
        return cls.assemble(models.pipe, models.identity, models.semantic, models.controlnet)

    def __call__(self, *, prompt: str, identity_image: np.ndarray | None = None,
                 reference_image: np.ndarray | None = None, identity_strength: float = 0.8,
                 semantic_strength: float = 0.8, steps: int = 30, guidance: float = 7.5,
                 seed: int = 0, negative_prompt: str = "", size: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """(size, size, 3) uint8 image. A strength of 0 turns its branch off exactly; a branch
        without its image is off too."""
        settings = {"identity_strength": identity_strength, "semantic_strength": semantic_strength,
                    "steps": steps, "guidance": guidance, "seed": seed}
        for key, (name, low, high) in _RANGES.items():
            check_number(name, settings[key], low, high, integer=key in ("steps", "seed"))
        steps, seed = int(steps), int(seed)
        size = size or self.pipe.unet.config.sample_size * self.pipe.vae_scale_factor
        size = int(check_number("size", size, 8, 2048, integer=True))
        if size % 8:
            raise InputError(f"size must be a multiple of 8, not {size}")
        semantic_scale = semantic_strength if reference_image is not None else 0.0
        kwargs = self._branch_inputs(identity_image, reference_image,
                                     identity_strength if identity_image is not None else 0.0,
                                     semantic_scale, with_negative=guidance > 1)
        if isinstance(self.pipe, StableDiffusionControlNetPipeline):
            kwargs["image"] = Image.fromarray(self.conditioner.control_image(reference_image, size))
            kwargs["controlnet_conditioning_scale"] = semantic_scale
        if progress is not None:
            def on_step(pipe, i, t, callback_kwargs):  # diffusers' callback signature
                progress(i + 1, steps)
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
