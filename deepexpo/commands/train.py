"""``train fusion``: the semantic (expression/pose) branch of text-prompted generation.
``train neural``: the neural engine's networks on face-cropped clips (several GPUs:
``torchrun --nproc_per_node N -m deepexpo train neural ...``)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..application import GenerateRequest
from ..errors import InputError
from ..fusion import semantic_weights_file
from ..io.output import atomic_output, check_output
from .common import check_base, fusion_models, require

logger = logging.getLogger("deepexpo")


def add(subparsers: Any) -> None:
    t = subparsers.add_parser("train", help="train model weights")
    what = t.add_subparsers(dest="what", required=True)
    f = what.add_parser(
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
    _add_neural(what)


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


def _add_neural(what: Any) -> None:
    from ..neural.training_settings import PRECISIONS, STARTS, TrainingSettings

    d = TrainingSettings()
    n = what.add_parser("neural", help="train or fine-tune the neural engine's networks on "
                                       "face-cropped clips (prepare-videos' output)")
    n.add_argument("--data", required=True, type=Path,
                   help="folder of square face-cropped .mp4 clips, one person each (clips.json "
                        "lists them, if there)")
    n.add_argument("--output", required=True, type=Path,
                   help="run folder: checkpoints in the published layout (use them with "
                        "DEEPEXPO_NEURAL_WEIGHTS=RUN_DIR), losses.csv, train.log, vis/, eval/")
    n.add_argument("--from", dest="start", default=d.start,
                   help=f"{' or '.join(STARTS)} or a folder of published .pth files "
                        f"(default: {d.start})")
    n.add_argument("--config", help="models.yaml of the networks --from scratch builds "
                                    "(default: the published size)")
    n.add_argument("--steps", type=int, default=1000, help="train up to this step (default 1000)")
    n.add_argument("--resume", action="store_true",
                   help="continue the run in --output with its own settings, up to --steps")
    n.add_argument("--size", type=int, default=d.size, help=f"input crop side (default {d.size})")
    n.add_argument("--batch", type=int, default=d.batch, help="pairs per step and process")
    n.add_argument("--lr", type=float, help="learning rate (default: 2e-4 from scratch, "
                                            "2e-5 fine-tuning)")
    n.add_argument("--seed", type=int, default=d.seed)
    n.add_argument("--train-stitching", action="store_true",
                   help="train the stitching MLP too (frozen by default; eye and lip "
                        "retargeting stay frozen)")
    n.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                   help="auto: mixed precision on CUDA (default); fp32: none")
    n.add_argument("--holdout", type=int, default=d.holdout,
                   help=f"clips held back for the final evaluation (default {d.holdout})")
    n.add_argument("--vis-every", type=int, default=d.vis_every,
                   help="steps between reconstruction grids (vis/)")
    n.add_argument("--save-every", type=int, default=d.save_every,
                   help="steps between checkpoints")
    n.add_argument("--workers", type=int, default=d.workers, help="data-loading processes")
    n.set_defaults(run=run_neural)


def run_neural(args: argparse.Namespace) -> int | None:
    from ..neural.clips import hold_out, open_clips
    from ..neural.training import (
        NeuralTrainer,
        Processes,
        RunFolder,
        evaluate,
        resume,
        starting_networks,
    )
    from ..neural.training_settings import TrainingSettings

    run = RunFolder(args.output)
    if args.output.exists() and not args.output.is_dir():
        raise InputError(f"--output must be a folder, not the file '{args.output}'")
    if args.resume != run.has_checkpoint():
        raise InputError(f"'{args.output}' holds no run to resume" if args.resume else
                         f"'{args.output}' holds a run: add --resume to continue it, or choose "
                         "another --output")
    if args.config is not None and not Path(args.config).is_file():
        raise InputError(f"--config: no such file '{args.config}'")
    settings = TrainingSettings(
        args.start, args.config, args.size, args.batch, args.lr, args.seed, args.train_stitching,
        args.precision, args.holdout, args.vis_every, args.save_every, args.workers)
    settings.check()
    if args.resume:
        settings = TrainingSettings.from_dict(run.load_state()["settings"])
    clips, held = hold_out(open_clips(args.data), settings.holdout)
    processes = Processes.from_env()
    run.root.mkdir(parents=True, exist_ok=True)
    log = run.root / ("train.log" if processes.main else f"train.rank{processes.rank}.log")
    with processes.group(), _run_log(log):
        if args.resume:
            trainer = resume(run, clips, processes)
        else:
            networks = starting_networks(settings.start, settings.config, settings.seed)
            trainer = NeuralTrainer(run, settings, networks, clips, processes)
        if args.steps <= trainer.step:
            raise InputError(f"the run is at step {trainer.step} already: give --steps above it")
        logger.info("training on %d clips (%d held back) from step %d to %d: %s", len(clips),
                    len(held), trainer.step, args.steps, settings)
        with tqdm(total=args.steps, initial=trainer.step, unit="step", desc="training",
                  disable=not processes.main) as bar:
            def progress(done: int, _: int, losses: dict[str, float]) -> None:
                bar.set_postfix(l1=f"{losses['l1']:.4f}", total=f"{losses['total']:.4f}")
                bar.update(done - bar.n)

            try:
                trainer.train(args.steps, progress)
            except KeyboardInterrupt:
                saved = run.load_state()["step"] if run.has_checkpoint() else None
                print(f"error: interrupted at step {trainer.step}; " + (
                    f"the checkpoint of step {saved} is kept: --resume continues from it"
                    if saved is not None else "no checkpoint was written yet"), file=sys.stderr)
                return 130
    if not processes.main:
        return None
    if held:
        summary = evaluate(run, held)
        figures = ", ".join(f"{k} {v:.4f}" for k, v in summary["mean"].items() if v is not None)
        print(f"held-back clips: {figures or 'no scores'} ({run.root / 'eval' / 'report.html'})")
    print(f"trained to step {trainer.step} in '{run.root}'; use it: "
          f"DEEPEXPO_NEURAL_WEIGHTS='{run.root}' python -m deepexpo transfer --engine neural ...")
    return None


@contextlib.contextmanager
def _run_log(path: Path) -> Iterator[None]:
    """The run's log at INFO in ``path``, whatever the console shows (its handlers keep
    their level: WARNING, or INFO with ``-v``)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    ours = logging.getLogger("deepexpo")
    level = ours.level
    consoles = {h: h.level for h in logging.getLogger().handlers}
    for console in consoles:
        console.setLevel(max(console.level, logging.getLogger().getEffectiveLevel()))
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    try:
        yield
    finally:
        ours.removeHandler(handler)
        handler.close()
        ours.setLevel(level)
        for console, before in consoles.items():
            console.setLevel(before)
