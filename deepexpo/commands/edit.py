"""``edit``: a photo's or video's expression, by emotion presets and named controls."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import EMOTIONS, ExpressionControls
from ..application import EditRequest, expression_edit
from ..engines import ENGINES
from ..engines.registry import PHOTO, VIDEO
from ..errors import InputError
from ..io.images import read_image, write_image
from ..io.video import is_video
from ..pipeline import TransferPipeline
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
    e = subparsers.add_parser("edit", help="edit a photo's or video's expression: emotion "
                                           "presets and named controls")
    e.add_argument("--source", required=True, type=Path,
                   help="image, or video (each frame keeps its head pose, lip motion and blinks)")
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
    face_argument(e)
    source_points_argument(e)
    e.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    edit = expression_edit({name: getattr(args, name) for name in ExpressionControls.names()},
                           args.emotion, args.intensity, args.keep_source)
    video = is_video(args.source)
    request = EditRequest(engine=args.engine, show_inputs=args.side_by_side,
                          face=source_face(args, video), edit=edit)
    check_output(video, args.output, args.source, args.reference)
    if args.reference and not video:
        raise InputError("--reference needs a video source; for a photo, use "
                         "`transfer --region expression`")
    source = None if video else read_image(args.source)
    request = replace(request, source_points=source_points(args, source))
    pipeline = TransferPipeline(engine(request.engine, (VIDEO if video else PHOTO).placing(
        request.source_points)))
    if source is not None:
        with placing_hint():
            write_image(args.output, pipeline.edit_image(
                source, request.edit, request.show_inputs, face=request.face,
                points=request.source_points))
    else:
        with placing_hint(), progress_bar("editing") as progress:
            pipeline.edit_video(args.source, args.output, request.edit, request.show_inputs,
                                not args.no_audio, progress, args.reference,
                                request.source_points)
    logger.info("wrote %s", args.output)
