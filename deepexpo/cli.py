"""Command line: ``python -m deepexpo transfer --source IMG --driving IMG_OR_VIDEO --output OUT``,
``python -m deepexpo edit --source IMG_OR_VIDEO --output OUT --emotion happy``,
``python -m deepexpo download MODEL``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from .engines import ENGINES, create_engine
from .errors import DeepExPoError, InputError
from .face.canonical import REGIONS
from .hub import MODELS, download
from .io.images import read_image, write_image
from .io.video import is_video
from .motion.compose import MotionOptions
from .motion.controls import EMOTIONS, ExpressionControls, ExpressionEdit
from .pipeline import TransferPipeline

logger = logging.getLogger("deepexpo")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deepexpo", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log diagnostics")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("transfer", help="transfer expression and head pose from a driver")
    t.add_argument("--source", required=True, type=Path, help="identity image")
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
    t.add_argument("--no-audio", action="store_true", help="do not copy the driver's audio")
    t.add_argument("--engine", choices=ENGINES, default="auto",
                   help="transfer engine (default: auto)")

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
    e.add_argument("--side-by-side", action="store_true", help="output source | result")
    e.add_argument("--no-audio", action="store_true", help="do not copy the video's audio")
    e.add_argument("--engine", choices=ENGINES, default="auto",
                   help="engine (default: auto)")

    d = sub.add_parser("download", help="fetch a model from the Hugging Face Hub into its cache")
    d.add_argument("model", choices=sorted(MODELS),
                   help="; ".join(f"{m.name}: {m.description}" for m in MODELS.values()))
    d.add_argument("--to", type=Path, metavar="DIR",
                   help="a folder to download into (e.g. weights/) instead of the Hugging Face "
                        "cache")
    return parser


@contextmanager
def _progress_bar(desc: str) -> Iterator[Callable[[int, int], None]]:
    with tqdm(unit="frame", desc=desc) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield progress


def _check_video_output(video: bool, output: Path) -> None:
    if video and output.suffix.lower() != ".mp4":
        raise InputError(f"a video gives a video: --output must end in .mp4, not '{output.name}'")


def _transfer(args: argparse.Namespace) -> None:
    try:
        options = MotionOptions(region=args.region, relative=not args.absolute,
                                strength=args.strength, adapt_scale=args.adapt_scale)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    video = is_video(args.driving)
    _check_video_output(video, args.output)
    engine = create_engine(args.engine)
    source = read_image(args.source)  # bad input is reported before the face models load
    pipeline = TransferPipeline(engine)
    if not video:
        driving = read_image(args.driving)
        write_image(args.output, pipeline.transfer_image(source, driving, options, args.side_by_side))
    else:
        with _progress_bar("reenacting") as progress:
            pipeline.transfer_video(source, args.driving, args.output, options,
                                    args.side_by_side, not args.no_audio, progress)
    logger.info("wrote %s", args.output)


def _edit(args: argparse.Namespace) -> None:
    controls = ExpressionControls(**{name: getattr(args, name)
                                     for name in ExpressionControls.names()})
    try:
        edit = ExpressionEdit.from_settings(controls, args.emotion, args.intensity,
                                            args.keep_source)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    video = is_video(args.source)
    _check_video_output(video, args.output)
    engine = create_engine(args.engine)
    if not video:
        source = read_image(args.source)
        write_image(args.output, TransferPipeline(engine).edit_image(source, edit, args.side_by_side))
    else:
        pipeline = TransferPipeline(engine)
        with _progress_bar("editing") as progress:
            pipeline.edit_video(args.source, args.output, edit, args.side_by_side,
                                not args.no_audio, progress)
    logger.info("wrote %s", args.output)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "transfer":
            _transfer(args)
        elif args.command == "edit":
            _edit(args)
        elif args.command == "download":
            print(download(args.model, args.to))
    except DeepExPoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
