"""``transfer``: expression and head pose from a driver onto a photo or a source video."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import REGIONS, FaceChoice
from ..application import TransferRequest, motion_options
from ..engines import ENGINES
from ..engines.registry import PHOTO, VIDEO
from ..errors import InputError
from ..io.images import read_image, write_image
from ..io.video import is_video
from ..pipeline import AUDIO_FROM, TransferPipeline
from .common import (
    check_output,
    engine,
    face_argument,
    placing_hint,
    progress_bar,
    source_face,
    source_points,
    source_points_argument,
)

logger = logging.getLogger("deepexpo")


def add(subparsers: Any) -> None:
    t = subparsers.add_parser("transfer", help="transfer expression and head pose from a driver")
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
    face_argument(t)
    t.add_argument("--driving-face", default="largest",
                   help="which face of a driver with several drives: largest or its number, "
                        "counting from 0 left to right; a video's in its first frame with a "
                        "face, followed from there on (default: largest)")
    source_points_argument(t)
    t.set_defaults(run=run)


def _audio(args: argparse.Namespace, default: str) -> str:
    return "none" if args.no_audio else args.audio or default


def run(args: argparse.Namespace) -> None:
    options = motion_options(args.region, args.absolute, args.strength, args.adapt_scale)
    source_video = is_video(args.source)
    request = TransferRequest(
        engine=args.engine, show_inputs=args.side_by_side, face=source_face(args, source_video),
        options=options, driving_face=FaceChoice.parse(args.driving_face).single("driving face"))
    video = source_video or is_video(args.driving)
    check_output(video, args.output, args.source, args.driving)
    if source_video:
        _reenact(args, replace(request, source_points=source_points(args, None)))
        return
    if args.audio == "source" or args.shortest:
        raise InputError(f"--{'audio source' if args.audio == 'source' else 'shortest'} needs "
                         "a source video; the source here is a photo")
    source = read_image(args.source)  # bad input is reported before the models load
    request = replace(request, source_points=source_points(args, source))
    pipeline = TransferPipeline(engine(request.engine, (VIDEO if video else PHOTO).placing(
        request.source_points)))
    with placing_hint():
        if not video:
            driving = read_image(args.driving)
            write_image(args.output, pipeline.transfer_image(
                source, driving, request.options, request.show_inputs, request.face,
                request.driving_face, request.source_points))
        else:
            with progress_bar("reenacting") as progress:
                pipeline.transfer_video(source, args.driving, args.output, request.options,
                                        request.show_inputs,
                                        _audio(args, "driving") == "driving", progress,
                                        request.face, request.driving_face,
                                        request.source_points)
    logger.info("wrote %s", args.output)


def _reenact(args: argparse.Namespace, request: TransferRequest) -> None:
    """A source video driven by a driving video or image."""
    pipeline = TransferPipeline(engine(request.engine, VIDEO.placing(request.source_points)))
    with placing_hint(), progress_bar("reenacting") as progress:
        pipeline.reenact_video(args.source, args.driving, args.output, request.options,
                               request.show_inputs, _audio(args, "source"), args.shortest,
                               progress, request.driving_face, request.source_points)
    logger.info("wrote %s", args.output)
