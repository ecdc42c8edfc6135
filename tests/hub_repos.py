"""Tiny random models written in exactly the published Hub layouts of the repositories
``deepexpo.hub.MODELS`` names, plus files around them that downloads must not fetch."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import ControlNetModel
from safetensors.torch import save_file
from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

from deepexpo.fusion.hub_models import (
    CONTROLNET_SUBFOLDER,
    FAST_LORA_WEIGHTS,
    IDENTITY_WEIGHTS,
    IMAGE_ENCODER,
)
from deepexpo.neural.hub_models import LIVEPORTRAIT_FILES
from deepexpo.testing.tiny_diffusion import (
    CLIP_HIDDEN,
    published_lcm_lora_state,
    published_plus_face_state,
    tiny_autoencoder,
    tiny_pipeline,
)
from deepexpo.testing.tiny_liveportrait import TINY, published_state, tiny_networks

#: Files that sit in the published repositories beside the ones we use.
DECOYS = {
    "liveportrait": ("liveportrait/landmark.onnx", "insightface/models/buffalo_l/det_10g.onnx",
                     "liveportrait_animals/base_models/warping_module.pth", "README.md"),
    "sd15": ("safety_checker/model.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
             "v1-5-pruned-emaonly.ckpt"),
    "ip-adapter": ("models/ip-adapter_sd15.safetensors", "sdxl_models/image_encoder/config.json"),
    "controlnet-face": ("control_v2p_sd15_mediapipe_face.pth", "diffusion_sd15/diffusion_pytorch_model.bin"),
    "lcm-lora": ("README.md", "image.png"),
    "taesd": ("taesd_decoder.pth", "taesd_encoder.pth", "taesd_decoder.safetensors", "README.md"),
}


def _decoys(folder: Path, name: str) -> None:
    for rel in DECOYS[name]:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(b"not to be fetched")


def liveportrait_repo(folder: Path) -> Path:
    """``KwaiVGI/LivePortrait``'s layout with tiny networks; returns their ``models.yaml``
    (outside the repository, for ``DEEPEXPO_NEURAL_CONFIG``)."""
    flat = folder.parent / "liveportrait-flat"
    flat.mkdir(parents=True, exist_ok=True)
    published_state(tiny_networks(fold=False), flat)
    for network, rel in LIVEPORTRAIT_FILES.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (flat / f"{network}.pth").rename(folder / rel)
    _decoys(folder, "liveportrait")
    config = folder.parent / "tiny-models.yaml"
    config.write_text(json.dumps(TINY))  # JSON is YAML
    return config


def sd15_repo(folder: Path) -> None:
    """A tiny SD 1.5 pipeline saved with ``save_pretrained``, its tokenizer in the published
    (vocab + merges) files."""
    pipe = tiny_pipeline()
    pipe.feature_extractor = CLIPImageProcessor()
    pipe.register_modules(feature_extractor=pipe.feature_extractor)
    pipe.save_pretrained(folder)
    tokenizer = folder / "tokenizer"
    (tokenizer / "tokenizer.json").unlink(missing_ok=True)
    (tokenizer / "vocab.json").write_text(json.dumps(pipe.tokenizer.get_vocab()))
    (tokenizer / "merges.txt").write_text("#version: 0.2\n")
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
               "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
    (tokenizer / "special_tokens_map.json").write_text(json.dumps(special))
    (tokenizer / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "CLIPTokenizer", "model_max_length": 77, **special}))
    _decoys(folder, "sd15")


def ip_adapter_repo(folder: Path) -> None:
    """``h94/IP-Adapter``'s plus-face file (flat ``image_proj.*``/``ip_adapter.*`` keys) and a
    tiny CLIP image encoder at the default processor's 224 px."""
    torch.manual_seed(2)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=CLIP_HIDDEN, intermediate_size=32, num_attention_heads=2, num_hidden_layers=2,
        image_size=224, patch_size=32, projection_dim=8))
    encoder.save_pretrained(folder / IMAGE_ENCODER)
    state = published_plus_face_state(tiny_pipeline().unet)
    (folder / IDENTITY_WEIGHTS).parent.mkdir(parents=True, exist_ok=True)
    save_file({f"{part}.{k}": v.contiguous() for part, sub in state.items() for k, v in sub.items()},
              str(folder / IDENTITY_WEIGHTS))
    _decoys(folder, "ip-adapter")


def controlnet_repo(folder: Path) -> None:
    """A tiny face ControlNet in ``diffusion_sd15/``, fp16 safetensors as published."""
    torch.manual_seed(4)
    net = ControlNetModel.from_unet(tiny_pipeline().unet,
                                    conditioning_embedding_out_channels=(16, 32))
    net.to(torch.float16).save_pretrained(folder / CONTROLNET_SUBFOLDER, variant="fp16")
    _decoys(folder, "controlnet-face")


def lcm_lora_repo(folder: Path) -> None:
    """``latent-consistency/lcm-lora-sdv1-5``: one safetensors file of kohya-style keys over the
    tiny U-Net."""
    save_file(published_lcm_lora_state(tiny_pipeline().unet), str(folder / FAST_LORA_WEIGHTS))
    _decoys(folder, "lcm-lora")


def taesd_repo(folder: Path) -> None:
    """``madebyollin/taesd``'s diffusers layout (``config.json`` + safetensors), beside its
    original ``.pth`` files."""
    tiny_autoencoder().save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    del config["block_out_channels"]  # diffusers' alias, absent from the published config
    (folder / "config.json").write_text(json.dumps(config))
    _decoys(folder, "taesd")


REPO_BUILDERS = {"neural": liveportrait_repo, "sd15": sd15_repo, "ip-adapter": ip_adapter_repo,
                 "controlnet-face": controlnet_repo, "lcm-lora": lcm_lora_repo,
                 "taesd": taesd_repo}
