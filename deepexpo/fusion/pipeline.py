"""Text-prompted generation of the identity person with a reference's expression and pose.

A diffusers Stable Diffusion 1.5 pipeline whose U-Net cross-attention has parallel branches
(:mod:`.attention`): ``identity`` (IP-Adapter plus-face tokens from a CLIP encoding of the
identity's face crop; public weights ``h94/IP-Adapter``) and ``semantic`` (tokens projected from
the reference's disentangled expression and pose; weights from ``train fusion``). The public
route for expression and pose is the MediaPipe-face ControlNet, conditioned on the reference's
landmarks. The expression/pose strength drives whichever of the two is loaded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, StableDiffusionPipeline
from PIL import Image
from safetensors.torch import load_file
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

from .. import hub
from ..errors import InputError
from ..face.crop import FaceCrop
from ..face.landmarks import FaceLandmarks, MediaPipeLandmarker
from ..hub import CONTROLNET_SUBFOLDER, IDENTITY_WEIGHTS, IMAGE_ENCODER
from ..motion.extract import extract_motion
from .attention import use_fusion_processors
from .face_condition import draw_face_condition
from .semantics import semantic_vector

logger = logging.getLogger(__name__)

IDENTITY_CROP_SCALE = 1.8  # a face crop as IP-Adapter's face models saw: face, a little hair


def split_adapter_state(flat: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """A safetensors IP-Adapter file (``image_proj.*`` / ``ip_adapter.*`` keys) as the nested
    dict diffusers' loader takes."""
    out: dict[str, dict[str, torch.Tensor]] = {"image_proj": {}, "ip_adapter": {}}
    for key, value in flat.items():
        part, _, rest = key.partition(".")
        if part not in out:
            raise InputError(f"not an IP-Adapter weights file: unexpected key '{key}'")
        out[part][rest] = value
    return out


@dataclass
class FusionPipeline:
    """``pipe`` with branches loaded (in ``branches`` order) and what feeds them."""

    pipe: StableDiffusionPipeline
    branches: tuple[str, ...] = ()
    states: tuple[dict, ...] = ()  # each branch's weights as loaded, to load them again
    image_encoder: CLIPVisionModelWithProjection | None = None
    image_processor: CLIPImageProcessor | None = None
    landmarker: MediaPipeLandmarker | None = None

    @classmethod
    def assemble(cls, pipe: StableDiffusionPipeline,
                 identity: tuple[dict, CLIPVisionModelWithProjection, CLIPImageProcessor] | None = None,
                 semantic: dict | None = None,
                 controlnet: ControlNetModel | None = None) -> FusionPipeline:
        """Load the branches into ``pipe`` (nested IP-Adapter state dicts; ``identity`` with
        its image encoder and processor) and switch to the ControlNet pipeline when given."""
        if controlnet is not None:
            pipe = StableDiffusionControlNetPipeline(**pipe.components, controlnet=controlnet)
        states, names = [], []
        if identity is not None:
            states.append(identity[0])
            names.append("identity")
        if semantic is not None:
            states.append(semantic)
            names.append("semantic")
        if states:
            pipe.load_ip_adapter(states, subfolder=[""] * len(states),
                                 weight_name=[""] * len(states), image_encoder_folder=None)
            use_fusion_processors(pipe.unet, names)
        encoder, processor = (identity[1], identity[2]) if identity is not None else (None, None)
        if encoder is not None:
            encoder.to(pipe.device, pipe.unet.dtype)
        return cls(pipe, tuple(names), tuple(states), encoder, processor, MediaPipeLandmarker())

    @classmethod
    def from_pretrained(cls, base: str | os.PathLike | None = None, identity: bool = True,
                        semantic_weights: str | os.PathLike | None = None,
                        controlnet: bool = False, device: str | None = None) -> FusionPipeline:
        """The real models, found (or fetched, where downloads are allowed) by
        :func:`deepexpo.hub.require`, or a local diffusers folder for ``base``. A missing model
        is a one-line :class:`~deepexpo.errors.ModelNotAvailableError`."""
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.float16 if device == "cuda" else torch.float32
        # Every missing model is reported before anything heavy loads.
        base_dir = Path(base) if base is not None else hub.require("sd15")
        identity_dir = hub.require("ip-adapter") if identity else None
        controlnet_dir = hub.require("controlnet-face") if controlnet else None
        pipe = StableDiffusionPipeline.from_pretrained(
            base_dir, dtype=dtype, safety_checker=None, requires_safety_checker=False,
            local_files_only=True)
        id_branch = None
        if identity_dir is not None:
            id_branch = (split_adapter_state(load_file(str(identity_dir / IDENTITY_WEIGHTS))),
                         CLIPVisionModelWithProjection.from_pretrained(identity_dir / IMAGE_ENCODER,
                                                                       dtype=dtype),
                         CLIPImageProcessor())
        semantic = split_adapter_state(load_file(str(semantic_weights))) if semantic_weights else None
        net = None
        if controlnet_dir is not None:
            net = ControlNetModel.from_pretrained(controlnet_dir / CONTROLNET_SUBFOLDER,
                                                  variant="fp16", dtype=dtype)
        if not (identity or semantic or controlnet):
            logger.warning("no identity, semantic or ControlNet branch: plain text-to-image")
        return cls.assemble(pipe.to(device), id_branch, semantic, net)

    # --- embeddings -----------------------------------------------------------------------

    def _face(self, image: np.ndarray, what: str) -> FaceLandmarks:
        assert self.landmarker is not None
        return self.landmarker.detect(image, what)

    def identity_crop(self, image: np.ndarray | None) -> np.ndarray:
        """The identity's aligned face crop at the image encoder's input size (black without
        an image: the unconditional input)."""
        assert self.image_processor is not None
        size = self.image_processor.crop_size["height"]
        if image is None:
            return np.zeros((size, size, 3), np.uint8)
        face = self._face(image, "identity image")
        return FaceCrop.from_landmarks(face.xy, IDENTITY_CROP_SCALE, 0.0).cut(image, size)

    def encode_faces(self, crops: list[np.ndarray]) -> torch.Tensor:
        """(B, 1, tokens, dim) CLIP penultimate hidden states, what plus-face adapters read."""
        assert self.image_processor is not None
        return self._encode(self.image_processor(images=crops, return_tensors="pt").pixel_values)

    def _encode(self, pixels: torch.Tensor) -> torch.Tensor:
        assert self.image_encoder is not None
        pixels = pixels.to(self.pipe.device, self.image_encoder.dtype)
        with torch.no_grad():
            return self.image_encoder(pixels, output_hidden_states=True).hidden_states[-2][:, None]

    def identity_embeds(self, image: np.ndarray | None) -> torch.Tensor:
        """(2, 1, tokens, dim): [unconditional (all-zero pixels, as IP-Adapter's recipe); the
        identity's face]."""
        cond = self.encode_faces([self.identity_crop(image)])
        return torch.cat([self._encode(torch.zeros(1, 3, *self._pixel_size())), cond])

    def _pixel_size(self) -> tuple[int, int]:
        assert self.image_processor is not None
        return self.image_processor.crop_size["height"], self.image_processor.crop_size["width"]

    def branch_input_dim(self, index: int) -> int:
        """The embedding size branch ``index``'s projection takes (MLP projections)."""
        return self.pipe.unet.encoder_hid_proj.image_projection_layers[index].ff.net[0].proj.in_features

    def semantic_embeds(self, image: np.ndarray | None, dim: int) -> torch.Tensor:
        """(2, 1, dim): [zeros; the reference's semantic vector]."""
        vec = np.zeros(dim, np.float32)
        if image is not None:
            vec = semantic_vector(extract_motion(self._face(image, "reference image")))
        cond = torch.from_numpy(vec)[None]
        return torch.cat([torch.zeros_like(cond), cond])[:, None].to(self.pipe.device,
                                                                       self.pipe.unet.dtype)

    def control_image(self, image: np.ndarray | None, size: int) -> np.ndarray:
        """The ControlNet's landmark drawing of the reference, at the output size."""
        if image is None:
            return np.zeros((size, size, 3), np.uint8)
        face = self._face(image, "reference image")
        h, w = image.shape[:2]
        scale = size / max(h, w)
        xy = face.xy * scale + (np.array([size - w * scale, size - h * scale]) / 2)
        return draw_face_condition((size, size), [xy])

    # --- generation -----------------------------------------------------------------------

    def generate(self, prompt: str, identity_image: np.ndarray | None = None,
                 reference_image: np.ndarray | None = None, identity_strength: float = 0.8,
                 semantic_strength: float = 0.8, steps: int = 30, guidance: float = 7.5,
                 seed: int = 0, negative_prompt: str = "", size: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """(size, size, 3) uint8 image. A strength of 0 turns its branch off exactly."""
        for name, value, low, high in (("identity strength", identity_strength, 0.0, 1.5),
                                       ("expression/pose strength", semantic_strength, 0.0, 1.5),
                                       ("steps", steps, 1, 200), ("guidance", guidance, 0.0, 30.0)):
            if not low <= value <= high:
                raise InputError(f"{name} must be between {low} and {high}, not {value}")
        size = size or self.pipe.unet.config.sample_size * self.pipe.vae_scale_factor
        if size % 8:
            raise InputError(f"size must be a multiple of 8, not {size}")
        scales, embeds = [], []
        for branch in self.branches:
            if branch == "identity":
                scales.append(identity_strength if identity_image is not None else 0.0)
                embeds.append(self.identity_embeds(identity_image))
            else:
                dim = self.branch_input_dim(len(embeds))
                scales.append(semantic_strength if reference_image is not None else 0.0)
                embeds.append(self.semantic_embeds(reference_image, dim))
        kwargs = {}
        if self.branches:
            self.pipe.set_ip_adapter_scale(scales)
            kwargs["ip_adapter_image_embeds"] = embeds if guidance > 1 else [e[1:] for e in embeds]
        if isinstance(self.pipe, StableDiffusionControlNetPipeline):
            kwargs["image"] = Image.fromarray(self.control_image(reference_image, size))
            kwargs["controlnet_conditioning_scale"] = (semantic_strength if reference_image is not None
                                                       else 0.0)
        if progress is not None:
            def on_step(pipe, i, t, callback_kwargs):  # noqa: ANN001 - diffusers' callback signature
                progress(i + 1, steps)
                return callback_kwargs

            kwargs["callback_on_step_end"] = on_step
        result = self.pipe(prompt, negative_prompt=negative_prompt or None, num_inference_steps=steps,
                           guidance_scale=guidance, height=size, width=size, output_type="np",
                           generator=torch.Generator("cpu").manual_seed(seed), **kwargs)
        return (np.clip(result.images[0], 0, 1) * 255).round().astype(np.uint8)

    def unload(self) -> None:
        """Back to the plain text-to-image U-Net."""
        if self.branches:
            self.pipe.unload_ip_adapter()
            self.branches, self.states = (), ()
