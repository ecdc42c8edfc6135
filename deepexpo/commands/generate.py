"""``generate``: the identity person from a text prompt, with a reference's expression and
pose."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..application import GenerateRequest
from ..fusion import semantic_weights_file, trained_semantic_weights
from ..io.images import read_image, write_image
from .common import check_base, check_output, fusion_models, require

logger = logging.getLogger("deepexpo")


def add(subparsers: Any) -> None:
    g = subparsers.add_parser("generate", help="generate the identity person from a text "
                                               "prompt, with a reference's expression and pose")
    g.add_argument("--prompt", required=True)
    g.add_argument("--identity", type=Path, help="identity image (whose face to keep)")
    g.add_argument("--reference", type=Path, help="expression and head-pose reference image")
    g.add_argument("--output", required=True, type=Path, help="output image")
    g.add_argument("--identity-strength", type=float, default=0.8, help="0 to 1.5 (default 0.8)")
    g.add_argument("--semantic-strength", type=float, default=0.8,
                   help="expression/pose strength, 0 to 1.5 (default 0.8)")
    speed = g.add_mutually_exclusive_group()
    speed.add_argument("--fast", dest="speed", action="store_const", const="fast",
                       help="few-step LCM-LoRA mode, 4 steps without guidance (default on a CPU)")
    speed.add_argument("--quality", dest="speed", action="store_const", const="quality",
                       help="the full SD 1.5 mode, 30 steps with guidance (default on a GPU)")
    g.set_defaults(speed="auto")
    g.add_argument("--steps", type=int, help="denoising steps (default: fast 4, quality 30)")
    g.add_argument("--guidance", type=float,
                   help="classifier-free guidance (default: fast 1.0, i.e. off; quality 7.5)")
    g.add_argument("--no-tiny-vae", action="store_true",
                   help="fast mode: decode with the full VAE, not the tiny autoencoder")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--negative-prompt", default="")
    g.add_argument("--size", type=int, help="output side in pixels (default: the model's, 512)")
    fusion_models(g)
    g.add_argument("--semantic-weights", type=Path,
                   help=f"trained semantic branch (default: {semantic_weights_file()} when "
                        "present)")
    g.add_argument("--controlnet", action="store_true",
                   help="drive expression and pose with the MediaPipe-face ControlNet")
    g.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    check_base(args.base)
    check_output(False, args.output, args.identity, args.reference)
    identity = read_image(args.identity) if args.identity else None
    reference = read_image(args.reference) if args.reference else None
    from ..engines import cuda_available
    from ..fusion.speed import AUTO, FAST, SETTINGS, fast_models, resolve_speed

    models = GenerateRequest(args.base, not args.no_identity, args.controlnet).models()
    if args.speed == AUTO:  # these first: auto's fallback to quality is no news without them
        require(models)
    speed = resolve_speed(args.speed, cuda_available())
    fast_parts = fast_models(not args.no_tiny_vae) if speed == FAST else []
    require(models + fast_parts)  # every missing one at once (those found pass at once)
    from ..fusion.pipeline import FusionPipeline

    weights = args.semantic_weights or trained_semantic_weights()
    if reference is not None and weights is None and not args.controlnet:
        logger.warning("no expression/pose route: train one (train fusion) or add --controlnet; "
                       "the reference is ignored")
    fusion = FusionPipeline.from_pretrained(args.base, not args.no_identity, weights,
                                            args.controlnet, fast=bool(fast_parts),
                                            tiny_vae=len(fast_parts) == 2)
    with tqdm(total=args.steps or SETTINGS[speed].steps, unit="step",
              desc=f"generating ({speed})") as bar:
        image = fusion(prompt=args.prompt, identity_image=identity, reference_image=reference,
                       identity_strength=args.identity_strength,
                       semantic_strength=args.semantic_strength, steps=args.steps,
                       guidance=args.guidance, seed=args.seed, speed=speed,
                       negative_prompt=args.negative_prompt, size=args.size,
                       progress=lambda done, _: bar.update(done - bar.n))
    write_image(args.output, image)
    logger.info("wrote %s", args.output)
