"""Tiny random Stable Diffusion parts built in memory (no download), for the generation tests:
U-Net, VAE, CLIP text and vision models, a byte-level tokenizer, and branch weights in the
published IP-Adapter layout."""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from diffusers.models.embeddings import IPAdapterFaceIDImageProjection
from transformers import (
    CLIPImageProcessor,
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTokenizer,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
)
from transformers.convert_slow_tokenizer import bytes_to_unicode

from deepexpo.fusion.attention import new_branch_state
from deepexpo.fusion.loading import IdentityBranch
from deepexpo.fusion.semantics import SEMANTIC_DIM

CROSS = 8  # text and image token width of the tiny U-Net
CLIP_HIDDEN = 16
TOKENS = 4


def tiny_tokenizer() -> CLIPTokenizer:
    """A byte-level CLIP tokenizer with no merges, built in memory (no download)."""
    chars = list(bytes_to_unicode().values())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for token in chars + [c + "</w>" for c in chars]:
        vocab.setdefault(token, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77, bos_token="<|startoftext|>",
                         eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                         unk_token="<|endoftext|>")


def tiny_pipeline(seed: int = 0) -> StableDiffusionPipeline:
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=16, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=CROSS,
        norm_num_groups=2)
    vae = AutoencoderKL(block_out_channels=[4, 8], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2,
                        up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4,
                        norm_num_groups=2)
    tokenizer = tiny_tokenizer()
    text = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1,
                                        hidden_size=CROSS, intermediate_size=16,
                                        num_attention_heads=2, num_hidden_layers=2,
                                        vocab_size=len(tokenizer), layer_norm_eps=1e-5))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    return StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None,
                                   feature_extractor=None, image_encoder=None,
                                   requires_safety_checker=False)


def published_plus_face_state(unet: UNet2DConditionModel, seed: int = 1) -> dict:
    """An IP-Adapter 'plus' checkpoint in the published (original repository) key layout:
    a 4-layer perceiver resampler over CLIP hidden states, and per-layer key/value weights."""
    g = torch.Generator().manual_seed(seed)
    hidden, ffn = 64, 256  # 64 = one head of 64 channels

    def w(*shape: int) -> torch.Tensor:
        return 0.1 * torch.randn(*shape, generator=g)

    proj = {"latents": w(1, TOKENS, hidden), "proj_in.weight": w(hidden, CLIP_HIDDEN),
            "proj_in.bias": w(hidden), "proj_out.weight": w(CROSS, hidden), "proj_out.bias": w(CROSS),
            "norm_out.weight": 1 + w(CROSS), "norm_out.bias": w(CROSS)}
    for i in range(4):
        for norm in ("norm1", "norm2"):
            proj[f"layers.{i}.0.{norm}.weight"] = 1 + w(hidden)
            proj[f"layers.{i}.0.{norm}.bias"] = w(hidden)
        proj[f"layers.{i}.0.to_q.weight"] = w(hidden, hidden)
        proj[f"layers.{i}.0.to_kv.weight"] = w(2 * hidden, hidden)
        proj[f"layers.{i}.0.to_out.weight"] = w(hidden, hidden)
        proj[f"layers.{i}.1.0.weight"], proj[f"layers.{i}.1.0.bias"] = 1 + w(hidden), w(hidden)
        proj[f"layers.{i}.1.1.weight"] = w(ffn, hidden)
        proj[f"layers.{i}.1.3.weight"] = w(hidden, ffn)
    layers = new_branch_state(unet, torch.nn.Identity())["ip_adapter"]  # the layer keys
    ip = {k: w(*v.shape) for k, v in layers.items()}
    return {"image_proj": proj, "ip_adapter": ip}


def tiny_identity(unet: UNet2DConditionModel) -> IdentityBranch:
    torch.manual_seed(2)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=CLIP_HIDDEN, intermediate_size=32, num_attention_heads=2, num_hidden_layers=2,
        image_size=32, patch_size=8, projection_dim=8))
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return IdentityBranch(published_plus_face_state(unet), encoder.eval(), processor)


def tiny_semantic(unet: UNet2DConditionModel, seed: int = 3) -> dict:
    torch.manual_seed(seed)
    projection = IPAdapterFaceIDImageProjection(SEMANTIC_DIM, CROSS, mult=2, num_tokens=TOKENS)
    state = new_branch_state(unet, projection)
    state["ip_adapter"] = {k: v + 0.3 * torch.randn_like(v) for k, v in state["ip_adapter"].items()}
    return state
