"""``train fusion``: the semantic (expression/pose) branch of text-prompted generation."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..application import GenerateRequest
from ..fusion import semantic_weights_file
from ..io.output import atomic_output, check_output
from .common import check_base, fusion_models, require

logger = logging.getLogger("deepexpo")


def add(subparsers: Any) -> None:
    t = subparsers.add_parser("train", help="train model weights")
    f = t.add_subparsers(dest="what", required=True).add_parser(
        "fusion", help="train the semantic (expression/pose) branch of text-prompted generation")
    f.add_argument("--data", required=True, type=Path,
                   help="folder of face images (subfolders: frames of one person; name.txt: "
                        "caption)")
    f.add_argument("--output", type=Path, default=semantic_weights_file(),
                   help="weights file to write")
    f.add_argument("--steps", type=int, default=1000)
    f.add_argument("--lr", type=float, default=1e-4, help="learning rate")
    f.add_argument("--batch", type=int, default=4)
    f.add_argument("--resolution", type=int, default=512)
    f.add_argument("--seed", type=int, default=0)
    fusion_models(f)
    f.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    check_base(args.base)
    check_output(args.output, [args.data], (".safetensors",), "weights")
    require(GenerateRequest(args.base, not args.no_identity).models())
    from ..fusion.pipeline import FusionPipeline
    from ..fusion.training import SemanticBranchTrainer, TrainingConfig, load_examples

    examples = load_examples(args.data, args.resolution)
    fusion = FusionPipeline.from_pretrained(args.base, not args.no_identity)
    config = TrainingConfig(args.steps, args.lr, args.batch, args.resolution, args.seed)
    trainer = SemanticBranchTrainer(fusion, config)
    with tqdm(total=args.steps, unit="step", desc="training") as bar:
        def progress(done: int, _: int, loss: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}")
            bar.update(done - bar.n)

        trainer.train(examples, progress)
    with atomic_output(args.output) as partial:
        trainer.save(partial)
    logger.info("wrote %s", args.output)
