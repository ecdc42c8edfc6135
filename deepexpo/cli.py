"""Command line: ``python -m deepexpo transfer --source IMG --driving IMG_OR_VIDEO --output OUT``,
``python -m deepexpo edit --source IMG_OR_VIDEO --output OUT --emotion happy``,
``python -m deepexpo download MODEL``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from . import hub
from .engines import ENGINES, TransferEngine, create_engine
from .errors import DeepExPoError, InputError
from .evaluation.commands import add_evaluation_commands, animate_command, evaluate_command
from .face.selection import FaceChoice
from .fusion import semantic_weights_file, trained_semantic_weights
from .io.images import check_image_output, read_image, write_image
from .io.output import atomic_output, check_output
from .io.video import check_video_output, is_video
from .motion.compose import MotionOptions
from .motion.controls import EMOTIONS, ExpressionControls, ExpressionEdit
from .motion.regions import REGIONS
from .pipeline import AUDIO_FROM, TransferPipeline
from .runtime import quiet_native_stderr

logger = logging.getLogger("deepexpo")


def _fusion_models(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", help="Stable Diffusion 1.5 folder (default: the downloaded sd15)")
    parser.add_argument("--no-identity", action="store_true",
                        help="without the IP-Adapter identity branch")


def _face_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--face", default="largest",
                        help="which face of a source photo with several to drive: largest, all "
                             "(each with its own pose), or its number, counting from 0 left to "
                             "right (default: largest)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deepexpo", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log diagnostics, MediaPipe's own included")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("transfer", help="transfer expression and head pose from a driver")
    t.add_argument("--source", required=True, type=Path,
                   help="identity image, or a source video to drive frame by frame")
    t.add_argument("--driving", required=True, type=Path,
                   help="driving image, video (mp4/mov/webm/gif) or folder of frames")
    t.add_argument("--output", required=True, type=Path,
                   help="output image (image driving) or .mp4 (video driving)")
    t.add_argument("--region", choices=REGIONS, default="all",
                   help="what to transfer: all, expression, pose, eyes or lips (default: all)")
    t.add_argument("--absolute", action="store_true",
                   help="apply the driver's expression and rotation as they are, not relative "
                        "to its first frame (video) or its neutral face (image)")
    t.add_argument("--adapt-scale", action="store_true",
                   help="scale the driver's head movement by the ratio of face sizes")
    t.add_argument("--strength", type=float, default=1.0, help="motion multiplier, 0 to 2")
    t.add_argument("--side-by-side", action="store_true",
                   help="output source | driver | result")
    t.add_argument("--audio", choices=AUDIO_FROM,
                   help="the output's sound (default: the source video's, else the driver's)")
    t.add_argument("--no-audio", action="store_true", help="no sound (--audio none)")
    t.add_argument("--shortest", action="store_true",
                   help="source video: stop where a shorter driving video ends (default: hold "
                        "its last frame)")
    t.add_argument("--engine", choices=ENGINES, default="auto",
                   help="transfer engine (default: auto)")
    _face_argument(t)
    t.add_argument("--driving-face", default="largest",
                   help="which face of a driver with several drives: largest or its number, "
                        "counting from 0 left to right; a video's in its first frame with a "
                        "face, followed from there on (default: largest)")

    e = sub.add_parser("edit", help="edit a photo's or video's expression: emotion presets and "
                                    "named controls")
    e.add_argument("--source", required=True, type=Path,
                   help="image, or video (each frame keeps its head pose and lip motion)")
    e.add_argument("--output", required=True, type=Path, help="output image, or .mp4 for a video")
    e.add_argument("--emotion", choices=list(EMOTIONS), help="emotion preset")
    e.add_argument("--intensity", type=float, default=1.0, help="emotion intensity, 0 to 2")
    e.add_argument("--keep-source", type=float, default=None,
                   help="how much of the source's own expression stays, 0 to 1 (default: 0 "
                        "with --emotion, which replaces it; 1 without, controls add to it)")
    controls = e.add_argument_group("controls", "expression -1..1, head rotation in degrees")
    for name in ExpressionControls.names():
        controls.add_argument(f"--{name.replace('_', '-')}", type=float, default=0.0,
                              metavar="F", help=ExpressionControls.describe(name))
    e.add_argument("--reference", type=Path,
                   help="a clip whose expression changes a video source takes on, frame by "
                        "frame (its mouth opening left out)")
    e.add_argument("--side-by-side", action="store_true", help="output source | result")
    e.add_argument("--no-audio", action="store_true", help="do not copy the video's audio")
    e.add_argument("--engine", choices=ENGINES, default="auto",
                   help="engine (default: auto)")
    _face_argument(e)

    g = sub.add_parser("generate", help="generate the identity person from a text prompt, with "
                                        "a reference's expression and pose")
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
    _fusion_models(g)
    g.add_argument("--semantic-weights", type=Path,
                   help=f"trained semantic branch (default: {semantic_weights_file()} when "
                        "present)")
    g.add_argument("--controlnet", action="store_true",
                   help="drive expression and pose with the MediaPipe-face ControlNet")

    t = sub.add_parser("train", help="train model weights")
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
    _fusion_models(f)

    add_evaluation_commands(sub)

    d = sub.add_parser("download", help="fetch a model from the Hugging Face Hub into its cache")
    d.add_argument("model", choices=sorted(hub.MODELS),
                   help="; ".join(f"{m.name}: {m.description} ({m.size})"
                                  for m in hub.MODELS.values()))
    d.add_argument("--to", type=Path, metavar="DIR",
                   help="a folder to download into (e.g. weights/) instead of the Hugging Face "
                        "cache")
    d.add_argument("--force", action="store_true",
                   help="fetch every file again, e.g. after a damaged-file error")
    for command in sub.choices.values():  # also after the command: `transfer ... -v`
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="log diagnostics, MediaPipe's own included")
    return parser


@contextmanager
def _progress_bar(desc: str) -> Iterator[Callable[[int, int], None]]:
    """A frame bar that appears with the first frame: input refused before any work is
    reported in its one line, without an empty bar above it."""
    bars: list[tqdm] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(unit="frame", desc=desc, total=total))
        bars[0].total = total
        bars[0].update(done - bars[0].n)

    try:
        yield progress
    finally:
        for bar in bars:
            bar.close()


@contextmanager
def _download_bar() -> Iterator[hub.DownloadProgress]:
    """A percentage bar that appears only once a download starts."""
    bars: list[tqdm] = []

    def progress(fraction: float, text: str) -> None:
        if not bars:
            bars.append(tqdm(total=100, bar_format="{desc} {bar} {percentage:3.0f}%", leave=False))
        bars[0].set_description_str(text, refresh=False)
        bars[0].update(round(100 * fraction) - bars[0].n)

    try:
        yield progress
    finally:
        for bar in bars:
            bar.close()


def _engine(name: str) -> TransferEngine:
    """The engine, its weights fetched first (with a bar) where downloads are allowed."""
    with _download_bar() as progress:
        return create_engine(name, progress)


def _check_output(video: bool, output: Path, *inputs: Path | None) -> None:
    """Before any work: the output is writable, of the right kind, and no input."""
    if video and output.suffix.lower() != ".mp4":
        raise InputError(f"a video gives a video: --output must end in .mp4, not '{output.name}'")
    (check_video_output if video else check_image_output)(output, inputs)


def _source_face(args: argparse.Namespace, video: bool) -> FaceChoice:
    """``--face``: it chooses among a source photo's faces; a source video drives its largest."""
    face = FaceChoice.parse(args.face)
    if video and face != FaceChoice():
        raise InputError("--face chooses among a source photo's faces; a source video drives "
                         "its largest face")
    return face


def _transfer(args: argparse.Namespace) -> None:
    options = MotionOptions(region=args.region, relative=not args.absolute,
                            strength=args.strength, adapt_scale=args.adapt_scale)
    source_video = is_video(args.source)
    face = _source_face(args, source_video)
    driving_face = FaceChoice.parse(args.driving_face).single("driving face")
    video = source_video or is_video(args.driving)
    _check_output(video, args.output, args.source, args.driving)
    if source_video:
        _reenact(args, options, driving_face)
        return
    if args.audio == "source" or args.shortest:
        raise InputError(f"--{'audio source' if args.audio == 'source' else 'shortest'} needs "
                         "a source video; the source here is a photo")
    source = read_image(args.source)  # bad input is reported before the models load
    engine = _engine(args.engine)
    pipeline = TransferPipeline(engine)
    if not video:
        driving = read_image(args.driving)
        write_image(args.output, pipeline.transfer_image(source, driving, options,
                                                         args.side_by_side, face, driving_face))
    else:
        with _progress_bar("reenacting") as progress:
            pipeline.transfer_video(source, args.driving, args.output, options,
                                    args.side_by_side, _audio(args, "driving") == "driving",
                                    progress, face, driving_face)
    logger.info("wrote %s", args.output)


def _audio(args: argparse.Namespace, default: str) -> str:
    return "none" if args.no_audio else args.audio or default


def _reenact(args: argparse.Namespace, options: MotionOptions,
             driving_face: FaceChoice) -> None:
    """A source video driven by a driving video or image."""
    pipeline = TransferPipeline(_engine(args.engine))
    with _progress_bar("reenacting") as progress:
        pipeline.reenact_video(args.source, args.driving, args.output, options,
                               args.side_by_side, _audio(args, "source"), args.shortest,
                               progress, driving_face)
    logger.info("wrote %s", args.output)


def _edit(args: argparse.Namespace) -> None:
    controls = ExpressionControls(**{name: getattr(args, name)
                                     for name in ExpressionControls.names()})
    edit = ExpressionEdit.from_settings(controls, args.emotion, args.intensity, args.keep_source)
    video = is_video(args.source)
    face = _source_face(args, video)
    _check_output(video, args.output, args.source, args.reference)
    if args.reference and not video:
        raise InputError("--reference needs a video source; for a photo, use "
                         "`transfer --region expression`")
    engine = _engine(args.engine)
    if not video:
        source = read_image(args.source)
        write_image(args.output, TransferPipeline(engine).edit_image(source, edit, args.side_by_side,
                                                                     face=face))
    else:
        pipeline = TransferPipeline(engine)
        with _progress_bar("editing") as progress:
            pipeline.edit_video(args.source, args.output, edit, args.side_by_side,
                                not args.no_audio, progress, args.reference)
    logger.info("wrote %s", args.output)


def _check_base(base: str | None) -> None:
    if base is not None and not Path(base).is_dir():
        raise InputError(f"--base must be a local diffusers folder, not '{base}' (for another "
                         "Hub repository, set DEEPEXPO_SD15_REPO and download it)")


def _require(names: list[str]) -> None:
    """Every model a command needs, found or fetched before anything heavy loads."""
    with _download_bar() as progress:
        hub.require_all(names, progress)


def _generate(args: argparse.Namespace) -> None:
    _check_base(args.base)
    _check_output(False, args.output, args.identity, args.reference)
    identity = read_image(args.identity) if args.identity else None
    reference = read_image(args.reference) if args.reference else None
    from .engines import cuda_available
    from .fusion.speed import AUTO, FAST, SETTINGS, fast_models, resolve_speed

    models = (["sd15"] * (args.base is None) + ["ip-adapter"] * (not args.no_identity)
              + ["controlnet-face"] * args.controlnet)
    if args.speed == AUTO:  # these first: auto's fallback to quality is no news without them
        _require(models)
    speed = resolve_speed(args.speed, cuda_available())
    fast_parts = fast_models(not args.no_tiny_vae) if speed == FAST else []
    _require(models + fast_parts)  # every missing one at once (those found pass at once)
    from .fusion.pipeline import FusionPipeline

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


def _train_fusion(args: argparse.Namespace) -> None:
    _check_base(args.base)
    check_output(args.output, [args.data], (".safetensors",), "weights")
    _require(["sd15"] * (args.base is None) + ["ip-adapter"] * (not args.no_identity))
    from .fusion.pipeline import FusionPipeline
    from .fusion.training import SemanticBranchTrainer, TrainingConfig, load_examples

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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.verbose:  # transformers' and diffusers' notices are not ours to show
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
        quiet_native_stderr()  # nor MediaPipe's C++ logging (-v shows it)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM (``docker stop``, a killed job) unwinds like Ctrl-C: partial files are removed.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        with logging_redirect_tqdm():  # warnings print above the progress bar, not through it
            code = _run(args)
    except DeepExPoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        return 130
    return code


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run(args: argparse.Namespace) -> int:
    """The command's exit code: 0, or 1 where a batch finished with some items failed or
    skipped."""
    if args.command == "animate":
        return animate_command(args)
    if args.command == "evaluate":
        return evaluate_command(args)
    if args.command == "transfer":
        _transfer(args)
    elif args.command == "edit":
        _edit(args)
    elif args.command == "generate":
        _generate(args)
    elif args.command == "train":
        _train_fusion(args)
    elif args.command == "download":
        with _download_bar() as progress:
            folder = hub.download(args.model, args.to, args.force, progress)
        hub.check_files(hub.MODELS[args.model], folder)
        print(folder)
    return 0
