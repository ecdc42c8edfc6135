"""Loading the generation models and assembling them into one diffusers pipeline.

Kept apart from conditioning and generation so that what is loaded (and from where) can change
without touching how a request is served: model folders come from :func:`deepexpo.hub.require`,
branch weights are nested IP-Adapter state dicts, and the branches go into the U-Net through
diffusers' own ``load_ip_adapter``, so its processors (and ``set_ip_adapter_scale`` /
``unload_ip_adapter``) work unchanged.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, cast

import torch
from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, StableDiffusionPipeline
from safetensors.torch import load_file
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

from .. import hub
from ..errors import InputError
from .few_step import SpeedSwitch
from .hub_models import CONTROLNET_SUBFOLDER, IDENTITY_WEIGHTS, IMAGE_ENCODER
from .speed import FAST_MODELS

logger = logging.getLogger(__name__)

IDENTITY = "identity"  # the IP-Adapter plus-face branch
SEMANTIC = "semantic"  # the trained expression/pose branch
#: The branches in the order they load (and take scales and embeddings) when both are there.
BRANCH_ORDER = (IDENTITY, SEMANTIC)


class IdentityBranch(NamedTuple):
    """The identity branch's weights and what turns a face into its input."""

    state: dict
    image_encoder: CLIPVisionModelWithProjection
    image_processor: CLIPImageProcessor


@dataclass(frozen=True)
class FusionModels:
    """Everything :meth:`FusionPipeline.from_pretrained` loaded, before assembling."""

    pipe: StableDiffusionPipeline
    identity: IdentityBranch | None = None
    semantic: dict | None = None
    controlnet: ControlNetModel | None = None
    speeds: SpeedSwitch | None = None  # the fast mode's LoRA (already in ``pipe``) and parts


@dataclass(frozen=True)
class AssembledPipeline:
    """A diffusers pipeline with its branches loaded, and what was loaded into it."""

    pipe: StableDiffusionPipeline
    branches: tuple[str, ...]
    states: tuple[dict, ...]  # each branch's weights as loaded, to load them again


PRECISION_ENV = "DEEPEXPO_GENERATION_PRECISION"
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def generation_dtype(device: str) -> torch.dtype:
    """fp16 on a GPU, fp32 on a CPU, unless ``DEEPEXPO_GENERATION_PRECISION`` says otherwise:
    ``bf16`` about halves a step on a CPU with native bfloat16 (AMX: measured 7.5 s against
    13-15 s for a 512 px U-Net step) and is much slower on one without; its effect on real
    weights' images is unchecked, so it is not the default."""
    choice = os.environ.get(PRECISION_ENV, "auto").strip().lower()
    if choice == "auto":
        return torch.float16 if device == "cuda" else torch.float32
    if choice not in _DTYPES:
        raise InputError(f"{PRECISION_ENV} must be auto, {', '.join(_DTYPES)}, not '{choice}'")
    return _DTYPES[choice]


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


def load_adapter_file(path: str | os.PathLike) -> dict[str, dict[str, torch.Tensor]]:
    """One branch's weights from a safetensors file, nested for diffusers' loader."""
    return split_adapter_state(load_file(str(path)))


def load_base(folder: Path, dtype: torch.dtype) -> StableDiffusionPipeline:
    """The SD 1.5 text-to-image pipeline, without the safety checker, from disk only."""
    return StableDiffusionPipeline.from_pretrained(
        folder, dtype=dtype, safety_checker=None, requires_safety_checker=False,
        local_files_only=True)


def load_identity(folder: Path, dtype: torch.dtype) -> IdentityBranch:
    """IP-Adapter plus-face weights and the CLIP image encoder they were trained with."""
    encoder = CLIPVisionModelWithProjection.from_pretrained(folder / IMAGE_ENCODER, dtype=dtype)
    return IdentityBranch(load_adapter_file(folder / IDENTITY_WEIGHTS), encoder,
                          CLIPImageProcessor())


def load_controlnet(folder: Path, dtype: torch.dtype) -> ControlNetModel:
    """The MediaPipe-face ControlNet (its SD 1.5 fp16 subfolder)."""
    return ControlNetModel.from_pretrained(folder / CONTROLNET_SUBFOLDER, variant="fp16",
                                           dtype=dtype)


def load_models(base: str | os.PathLike | None = None, identity: bool = True,
                semantic_weights: str | os.PathLike | None = None, controlnet: bool = False,
                device: str | None = None, fast: bool = False,
                tiny_vae: bool = True) -> FusionModels:
    """The real models, found (or fetched, where downloads are allowed) by
    :func:`deepexpo.hub.require`, or a local diffusers folder for ``base``; the base pipeline
    is moved to ``device``. ``fast``: the fast mode's LoRA too (fused into the U-Net before
    any branch is attached), and with ``tiny_vae`` the tiny autoencoder. A missing model is a
    one-line :class:`~deepexpo.errors.ModelNotAvailableError`."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = generation_dtype(device)
    # Every missing model is reported before anything heavy loads.
    base_dir = Path(base) if base is not None else hub.require("sd15")
    identity_dir = hub.require("ip-adapter") if identity else None
    controlnet_dir = hub.require("controlnet-face") if controlnet else None
    lora_name, autoencoder_name = FAST_MODELS
    lora_dir = hub.require(lora_name) if fast else None
    tiny_vae_dir = hub.require(autoencoder_name) if fast and tiny_vae else None
    pipe = load_base(base_dir, dtype).to(device)
    speeds = SpeedSwitch.load(pipe, lora_dir, tiny_vae_dir) if lora_dir is not None else None
    id_branch = load_identity(identity_dir, dtype) if identity_dir is not None else None
    semantic = load_adapter_file(semantic_weights) if semantic_weights else None
    net = load_controlnet(controlnet_dir, dtype).to(device) if controlnet_dir is not None else None
    if not (identity or semantic or controlnet):
        logger.warning("no identity, semantic or ControlNet branch: plain text-to-image")
    return FusionModels(pipe, id_branch, semantic, net, speeds)


def attach_branches(pipe: StableDiffusionPipeline, identity: IdentityBranch | None = None,
                    semantic: dict | None = None,
                    controlnet: ControlNetModel | None = None) -> AssembledPipeline:
    """Load the branches into ``pipe`` (identity first) with diffusers' IP-Adapter loader,
    switch to the ControlNet pipeline when given one, and move the identity's image encoder
    next to the U-Net."""
    if controlnet is not None:
        pipe = StableDiffusionControlNetPipeline(**pipe.components, controlnet=controlnet)
    loaded = {IDENTITY: identity.state if identity is not None else None, SEMANTIC: semantic}
    names = tuple(name for name in BRANCH_ORDER if loaded[name] is not None)
    states = tuple(cast(dict, loaded[name]) for name in names)  # the names of loaded branches
    if states:
        pipe.load_ip_adapter(list(states), subfolder=[""] * len(states),
                             weight_name=[""] * len(states), image_encoder_folder=None)
    if identity is not None:
        identity.image_encoder.to(pipe.device, pipe.unet.dtype)
    return AssembledPipeline(pipe, names, states)
