"""Text-prompted generation's speed and memory, the full (quality) mode and the fast mode side by
side in one run, with full-size networks built from their published configurations with random
weights (no download).

    python bench/generation_speed.py [--size 512] [--timed-full-steps 2] [--device cpu|cuda]
                                     [--dtype fp32|bf16|fp16] [--skip-full]

The networks: the SD 1.5 U-Net, VAE and CLIP ViT-L/14 text encoder
(``stable-diffusion-v1-5/stable-diffusion-v1-5``'s ``*/config.json``), the OpenCLIP ViT-H/14
image encoder and the IP-Adapter plus-face resampler and key/value weights (``h94/IP-Adapter``),
the MediaPipe-face ControlNet (the U-Net's encoder, diffusers' SD 1.5 ControlNet defaults), the
tiny autoencoder (``madebyollin/taesd``: diffusers' ``AutoencoderTiny`` defaults), a rank-64
LoRA over every layer LCM-LoRA trains, in its published key layout, and the semantic branch.
Requests go through :class:`deepexpo.fusion.pipeline.FusionPipeline` as the app sends them: an
identity photo (skimage's astronaut) and an expression/pose reference (matplotlib's Grace
Hopper), both faces found by MediaPipe.

Two routes for expression and pose: the semantic branch (tokens; nearly free) and the
ControlNet (a second encoder pass a step). For each, the fast mode runs whole images (4 steps,
guidance off, the tiny autoencoder); the full mode is timed over ``--timed-full-steps`` steps
after the first (which carries the encoders) and extrapolated to 30 steps plus one VAE decode,
timed on its own: 30 full steps take many minutes on a CPU. Memory: the process's resident
memory sampled every 20 ms; "extra" is the peak during a request above what it was before it.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diffusers import (  # noqa: E402
    AutoencoderKL,
    AutoencoderTiny,
    ControlNetModel,
    PNDMScheduler,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from transformers import (  # noqa: E402
    CLIPImageProcessor,
    CLIPTextConfig,
    CLIPTextModel,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
)

from deepexpo.fusion.few_step import SpeedSwitch  # noqa: E402
from deepexpo.fusion.loading import IdentityBranch  # noqa: E402
from deepexpo.fusion.pipeline import FusionPipeline, GenerationCancelled  # noqa: E402
from deepexpo.fusion.speed import FAST_SETTINGS, QUALITY_SETTINGS  # noqa: E402
from deepexpo.testing.tiny_diffusion import (  # noqa: E402
    published_lcm_lora_state,
    published_plus_face_state,
    tiny_semantic,
    tiny_tokenizer,
)

# stable-diffusion-v1-5/stable-diffusion-v1-5 unet/config.json, vae/config.json, text_encoder.
UNET = dict(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
            block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768,
            attention_head_dim=8, norm_num_groups=32,
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3)
VAE = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2,
           block_out_channels=(128, 256, 512, 512), norm_num_groups=32, sample_size=512,
           down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)
TEXT = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
            max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768,
            vocab_size=49408, bos_token_id=0, eos_token_id=1, pad_token_id=1)
# h94/IP-Adapter models/image_encoder/config.json (OpenCLIP ViT-H/14).
IMAGE_ENCODER = dict(hidden_size=1280, intermediate_size=5120, num_attention_heads=16,
                     num_hidden_layers=32, patch_size=14, image_size=224, projection_dim=1024,
                     hidden_act="gelu", layer_norm_eps=1e-5)
SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                 skip_prk_steps=True, set_alpha_to_one=False, steps_offset=1)
LCM_RANK = 64
PROMPT = "a portrait photo of a person in a garden, golden hour"
ROUTES = ("semantic branch", "ControlNet")


class PeakMemory:
    """The process's peak resident memory while inside, sampled every 20 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.before = self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        self.before = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def extra_gb(self) -> float:
        return (self.peak - self.before) / 2**30


def gb(module: torch.nn.Module) -> float:
    return sum(p.numel() * p.element_size() for p in module.parameters()) / 2**30


@dataclass
class Models:
    pipe: StableDiffusionPipeline
    identity: IdentityBranch
    semantic: dict
    controlnet: ControlNetModel
    speeds: SpeedSwitch

    def assemble(self, route: str) -> FusionPipeline:
        """Identity + the semantic branch, or identity + the ControlNet (one at a time: loading
        branches replaces those in the shared U-Net)."""
        if route == ROUTES[0]:
            return FusionPipeline.assemble(self.pipe, self.identity, self.semantic,
                                           speeds=self.speeds)
        return FusionPipeline.assemble(self.pipe, self.identity, None, self.controlnet,
                                       speeds=self.speeds)


def build(device: str, dtype: torch.dtype) -> Models:
    torch.manual_seed(0)
    start = time.perf_counter()
    unet = UNet2DConditionModel(**UNET)
    pipe = StableDiffusionPipeline(
        vae=AutoencoderKL(**VAE), text_encoder=CLIPTextModel(CLIPTextConfig(**TEXT)),
        tokenizer=tiny_tokenizer(), unet=unet, scheduler=PNDMScheduler(**SCHEDULER),
        safety_checker=None, feature_extractor=None, image_encoder=None,
        requires_safety_checker=False)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(**IMAGE_ENCODER)).eval()
    identity = IdentityBranch(published_plus_face_state(unet, clip_hidden=1280, hidden=768,
                                                        tokens=16),
                              encoder.to(device, dtype), CLIPImageProcessor())
    controlnet = ControlNetModel.from_unet(unet).to(device, dtype)
    semantic = tiny_semantic(unet)
    pipe.to(device, dtype)
    speeds = SpeedSwitch.load(pipe, published_lcm_lora_state(unet, rank=LCM_RANK, alpha=8.0,
                                                              std=0.01))
    speeds.tiny_vae = AutoencoderTiny().to(device, dtype)
    print(f"built in {time.perf_counter() - start:.0f} s: U-Net {gb(unet):.2f} GB, VAE "
          f"{gb(pipe.vae):.2f} GB, text encoder {gb(pipe.text_encoder):.2f} GB, image encoder "
          f"{gb(encoder):.2f} GB, ControlNet {gb(controlnet):.2f} GB, tiny autoencoder "
          f"{gb(speeds.tiny_vae) * 1024:.0f} MB ({dtype}, {device})", flush=True)
    return Models(pipe, identity, semantic, controlnet, speeds)


def faces() -> tuple[np.ndarray, np.ndarray]:
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = np.asarray(Image.open(f).convert("RGB"))
    return data.astronaut(), hopper


@dataclass
class Timing:
    total_s: float
    first_s: float  # start to the end of step 1: the encoders, then one step
    step_s: float  # median of the later steps
    extra_gb: float
    decode_s: float = 0.0


def run(fusion: FusionPipeline, speed: str, steps: int, stop_after: int | None,
        size: int, identity: np.ndarray, reference: np.ndarray) -> Timing:
    """One request; with ``stop_after``, cancelled after that many steps (timed, not finished)."""
    marks: list[float] = []
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        marks.append(time.perf_counter())
        if stop_after is not None and done >= stop_after:
            cancel.set()

    start = time.perf_counter()
    with PeakMemory() as memory:
        try:
            fusion(prompt=PROMPT, identity_image=identity, reference_image=reference, speed=speed,
                   steps=steps, size=size, seed=0, progress=progress, cancel=cancel)
        except GenerationCancelled:
            pass
    end = time.perf_counter()
    later = np.diff(marks)
    return Timing(end - start, marks[0] - start, float(np.median(later)) if len(later) else 0.0,
                  memory.extra_gb, end - marks[-1])


def time_decode(vae: torch.nn.Module, size: int, device: str,
                dtype: torch.dtype) -> tuple[float, float]:
    """Seconds and extra GB of one decode at ``size``."""
    latents = torch.randn(1, 4, size // 8, size // 8, device=device, dtype=dtype)
    start = time.perf_counter()
    with torch.no_grad(), PeakMemory() as memory:
        vae.decode(latents)
    return time.perf_counter() - start, memory.extra_gb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--timed-full-steps", type=int, default=2,
                        help="full-mode steps timed after the first (then extrapolated)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=("fp32", "bf16", "fp16"), default=None,
                        help="default: fp16 on CUDA, fp32 on a CPU (as the app loads them)")
    parser.add_argument("--skip-full", action="store_true", help="the fast mode only")
    args = parser.parse_args()
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[
        args.dtype or ("fp16" if args.device == "cuda" else "fp32")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average "
          f"{' '.join(f'{x:.1f}' for x in psutil.getloadavg())}", flush=True)
    base = psutil.Process().memory_info().rss
    models = build(args.device, dtype)
    print(f"models resident: {(psutil.Process().memory_info().rss - base) / 2**30:.1f} GB",
          flush=True)
    identity, reference = faces()
    decode = decode_gb = None
    if not args.skip_full:
        decode, decode_gb = time_decode(models.speeds.full_vae, args.size, args.device, dtype)
        print(f"full VAE decode: {decode:.1f} s, extra memory {decode_gb:.2f} GB", flush=True)
    rows = []
    for route in ROUTES:
        fusion = models.assemble(route)
        run(fusion, "fast", 1, None, 64, identity, reference)  # warm-up: MediaPipe, the LoRA fused
        fast = run(fusion, "fast", FAST_SETTINGS.steps, None, args.size, identity, reference)
        print(f"fast, {route}: {fast.total_s:.1f} s per image ({FAST_SETTINGS.steps} steps, "
              f"{fast.step_s:.1f} s per step, first step with the encoders {fast.first_s:.1f} s, "
              f"tiny-autoencoder decode {fast.decode_s:.1f} s), extra memory "
              f"{fast.extra_gb:.2f} GB", flush=True)
        full = estimate = None
        if decode is not None:
            full = run(fusion, "quality", QUALITY_SETTINGS.steps, 1 + args.timed_full_steps,
                       args.size, identity, reference)
            full.extra_gb = max(full.extra_gb, decode_gb)  # the steps', or the decode's
            estimate = full.first_s + (QUALITY_SETTINGS.steps - 1) * full.step_s + decode
            print(f"full, {route}: {full.step_s:.1f} s per step (guidance: batch 2; median of "
                  f"{args.timed_full_steps} timed steps), first step with the encoders "
                  f"{full.first_s:.1f} s; per image ({QUALITY_SETTINGS.steps} steps + VAE "
                  f"decode, extrapolated) {estimate:.0f} s; extra memory {full.extra_gb:.2f} GB",
                  flush=True)
        rows.append((route, fast, (full, estimate) if full else None))
        fusion.unload()
    print("\n| expression/pose route | fast: s/step | fast: s/image | full: s/step | "
          "full: s/image (extrapolated) | speed-up | extra memory fast / full |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for route, fast, full in rows:
        full_text = (f"{full[0].step_s:.1f} | {full[1]:.0f} | {full[1] / fast.total_s:.1f}x | "
                     f"{fast.extra_gb:.2f} / {full[0].extra_gb:.2f} GB") if full else \
            f"- | - | - | {fast.extra_gb:.2f} GB / -"
        print(f"| {route} | {fast.step_s:.1f} | {fast.total_s:.1f} | {full_text} |")


if __name__ == "__main__":
    main()
