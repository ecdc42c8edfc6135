"""The Hub models text-prompted generation loads (light: no torch or diffusers)."""

from __future__ import annotations

from ..hub import HubModel, register

IDENTITY_WEIGHTS = "models/ip-adapter-plus-face_sd15.safetensors"
IMAGE_ENCODER = "models/image_encoder"
CONTROLNET_SUBFOLDER = "diffusion_sd15"
FAST_LORA_WEIGHTS = "pytorch_lora_weights.safetensors"

register(HubModel(
    name="sd15",
    description="the Stable Diffusion 1.5 base model",
    enables="text-prompted generation",
    repo_id="stable-diffusion-v1-5/stable-diffusion-v1-5",
    files=("scheduler/scheduler_config.json", "tokenizer/merges.txt",
           "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
           "tokenizer/vocab.json", "feature_extractor/preprocessor_config.json",
           "text_encoder/config.json", "text_encoder/model.safetensors",
           "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
           "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
           "model_index.json"),
    size_mb=4265,
))
register(HubModel(
    name="ip-adapter",
    description="the IP-Adapter plus-face identity weights and their CLIP image encoder",
    enables="the identity branch of generation",
    repo_id="h94/IP-Adapter",
    files=(f"{IMAGE_ENCODER}/config.json", f"{IMAGE_ENCODER}/model.safetensors",
           IDENTITY_WEIGHTS),
    size_mb=2626,
))
register(HubModel(
    name="controlnet-face",
    description="the MediaPipe-face ControlNet for SD 1.5",
    enables="the expression/pose route of generation",
    repo_id="CrucibleAI/ControlNetMediaPipeFace",
    files=(f"{CONTROLNET_SUBFOLDER}/diffusion_pytorch_model.fp16.safetensors",
           f"{CONTROLNET_SUBFOLDER}/config.json"),
    size_mb=723,
))
register(HubModel(
    name="lcm-lora",
    description="the LCM-LoRA few-step weights for SD 1.5",
    enables="generation's fast mode (4 steps)",
    repo_id="latent-consistency/lcm-lora-sdv1-5",
    files=(FAST_LORA_WEIGHTS,),
    size_mb=135,
))
register(HubModel(
    name="taesd",
    description="the tiny autoencoder (TAESD)",
    enables="generation's fast decoding",
    repo_id="madebyollin/taesd",
    files=("config.json", "diffusion_pytorch_model.safetensors"),
    size_mb=10,
))
