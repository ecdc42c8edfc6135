"""Tiny random Stable Diffusion parts built in memory (no download), for the generation tests:
U-Net, VAE, tiny autoencoder, CLIP text and vision models, a byte-level tokenizer, branch weights
in the published IP-Adapter layout and a few-step LoRA in the published LCM-LoRA layout."""

from __future__ import annotations

import torch
from diffusers import (
    AutoencoderKL,
    AutoencoderTiny,
    DDIMScheduler,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
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


def published_plus_face_state(unet: UNet2DConditionModel, seed: int = 1,
                              clip_hidden: int = CLIP_HIDDEN, hidden: int = 64,
                              tokens: int = TOKENS) -> dict:
    """An IP-Adapter 'plus' checkpoint in the published (original repository) key layout:
    a 4-layer perceiver resampler (``hidden`` wide, heads of 64 channels, ``tokens`` queries)
    over CLIP hidden states ``clip_hidden`` wide, and per-layer key/value weights. The
    published SD 1.5 plus-face is ``clip_hidden=1280, hidden=768, tokens=16``."""
    g = torch.Generator().manual_seed(seed)
    cross, ffn = unet.config.cross_attention_dim, 4 * hidden

    def w(*shape: int) -> torch.Tensor:
        return 0.1 * torch.randn(*shape, generator=g)

    proj = {"latents": w(1, tokens, hidden), "proj_in.weight": w(hidden, clip_hidden),
            "proj_in.bias": w(hidden), "proj_out.weight": w(cross, hidden),
            "proj_out.bias": w(cross),
            "norm_out.weight": 1 + w(cross), "norm_out.bias": w(cross)}
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
    """A random semantic branch for ``unet`` (any size) in the layout ``train fusion`` saves."""
    torch.manual_seed(seed)
    projection = IPAdapterFaceIDImageProjection(SEMANTIC_DIM, unet.config.cross_attention_dim,
                                                mult=2, num_tokens=TOKENS)
    state = new_branch_state(unet, projection)
    state["ip_adapter"] = {k: v + 0.3 * torch.randn_like(v) for k, v in state["ip_adapter"].items()}
    return state


#: The U-Net layers LCM-LoRA trains (diffusers' ``train_lcm_distill_lora_sd.py``).
LCM_LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj",
                    "ff.net.2", "conv1", "conv2", "conv_shortcut", "downsamplers.0.conv",
                    "upsamplers.0.conv", "time_emb_proj")


def published_lcm_lora_state(unet: UNet2DConditionModel, rank: int = 4, alpha: float = 4.0,
                             std: float = 0.3, seed: int = 5) -> dict[str, torch.Tensor]:
    """A LoRA over ``unet`` in ``latent-consistency/lcm-lora-sdv1-5``'s published key layout
    (kohya-style ``lora_unet_<module path with underscores>.lora_down.weight`` /
    ``.lora_up.weight`` / ``.alpha``) for every layer LCM-LoRA trains. ``std``: the weights'
    spread (0.3 changes a tiny U-Net's output visibly; full-size speed tests use less)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, module in unet.named_modules():
        if not name.endswith(tuple("." + t for t in LCM_LORA_TARGETS)):
            continue
        down: tuple[int, ...]
        up: tuple[int, ...]
        if isinstance(module, torch.nn.Linear):
            down, up = (rank, module.in_features), (module.out_features, rank)
        elif isinstance(module, torch.nn.Conv2d):
            down = (rank, module.in_channels, *module.kernel_size)
            up = (module.out_channels, rank, 1, 1)
        else:
            continue
        key = "lora_unet_" + name.replace(".", "_")
        state[f"{key}.lora_down.weight"] = std * torch.randn(*down, generator=g)
        state[f"{key}.lora_up.weight"] = std * torch.randn(*up, generator=g)
        state[f"{key}.alpha"] = torch.tensor(float(alpha))
    return state


def tiny_autoencoder(seed: int = 6) -> AutoencoderTiny:
    """A tiny TAESD-architecture autoencoder with the tiny VAE's 2x scale."""
    torch.manual_seed(seed)
    return AutoencoderTiny(encoder_block_out_channels=(4, 4), decoder_block_out_channels=(4, 4),
                           num_encoder_blocks=(1, 1), num_decoder_blocks=(1, 1)).eval()
