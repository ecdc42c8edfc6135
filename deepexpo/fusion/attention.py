"""Parallel attention branches in the U-Net's cross-attention (MEAF).

Each cross-attention layer attends to the text tokens as usual and, in parallel, to each
branch's tokens (identity, semantics) with the branch's own key/value projections; the results
are added, each branch weighted by its strength. This is exactly diffusers' IP-Adapter
computation, so the branches are its own ``IPAdapterAttnProcessor2_0`` (one key/value pair per
branch; the names live on :class:`~deepexpo.fusion.pipeline.FusionPipeline`):
``set_ip_adapter_scale`` sets the branch strengths, ``unload_ip_adapter`` restores the plain
U-Net, and published IP-Adapter weights load into a branch unchanged. This module writes
branches in that published layout, for training and saving.
"""

from __future__ import annotations

import torch
from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
from torch import nn


def new_branch_state(unet: UNet2DConditionModel, projection: nn.Module) -> dict[str, dict]:
    """A fresh branch in the published IP-Adapter layout, ready for ``load_ip_adapter``:
    ``projection`` turns the branch's embedding into tokens, and its key/value projections
    start as copies of each layer's text ones (as IP-Adapter training does), so that a new
    branch starts out attending sensibly."""
    modules = dict(unet.named_modules())
    ip_adapter = {}
    for k, name in enumerate(unet.attn_processors):
        if name.endswith("attn2.processor"):
            attn = modules[name.removesuffix(".processor")]
            ip_adapter[f"{k}.to_k_ip.weight"] = attn.to_k.weight.detach().clone()
            ip_adapter[f"{k}.to_v_ip.weight"] = attn.to_v.weight.detach().clone()
    return {"image_proj": _published_projection(projection), "ip_adapter": ip_adapter}


def branch_processors(unet: UNet2DConditionModel) -> list[IPAdapterAttnProcessor2_0]:
    """The processors that hold the branches' key/value projections (cross-attention only)."""
    return [p for p in unet.attn_processors.values() if isinstance(p, IPAdapterAttnProcessor2_0)]


def branch_state_dict(unet: UNet2DConditionModel, index: int) -> dict[str, dict[str, torch.Tensor]]:
    """Branch ``index`` in the published IP-Adapter layout: ``image_proj`` (its projection)
    and ``ip_adapter`` (``<k>.to_k_ip.weight`` / ``to_v_ip`` for the k-th attention processor,
    cross-attention ones only), so diffusers' ``load_ip_adapter`` reads it back."""
    projection = unet.encoder_hid_proj.image_projection_layers[index]
    ip_adapter = {}
    for k, proc in enumerate(unet.attn_processors.values()):
        if isinstance(proc, IPAdapterAttnProcessor2_0):
            ip_adapter[f"{k}.to_k_ip.weight"] = proc.to_k_ip[index].weight.detach().clone()
            ip_adapter[f"{k}.to_v_ip.weight"] = proc.to_v_ip[index].weight.detach().clone()
    return {"image_proj": _published_projection(projection), "ip_adapter": ip_adapter}


def _published_projection(projection: nn.Module) -> dict[str, torch.Tensor]:
    """A FaceID-style MLP projection under the published key names (``proj.0``, ``proj.2``,
    ``norm``), which diffusers' loader maps back onto its own."""
    names = {"ff.net.0.proj": "proj.0", "ff.net.2": "proj.2", "norm": "norm"}
    out = {}
    for key, value in projection.state_dict().items():
        prefix, _, leaf = key.rpartition(".")
        out[f"{names[prefix]}.{leaf}"] = value.detach().clone()
    return out
