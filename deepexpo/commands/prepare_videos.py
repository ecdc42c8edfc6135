"""``prepare-videos``: raw videos cut into face-cropped clips of one person each, for
``train neural``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..clips import CLIP_SIZES, ClipOptions, prepare_videos
from .common import progress_bar


def add(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "prepare-videos", help="cut raw videos into face-cropped clips to train the neural "
                               "engine on")
    p.add_argument("--input", required=True, type=Path,
                   help="folder of raw videos (subfolders included), or one video")
    p.add_argument("--output", required=True, type=Path,
                   help="folder for the clips and clips.json (a rerun keeps the clips already "
                        "whole)")
    p.add_argument("--size", type=int, choices=CLIP_SIZES, default=256,
                   help="the clips' side in pixels (default 256)")
    p.add_argument("--min-frames", type=int, default=ClipOptions.min_frames,
                   help=f"the shortest clip in frames (default {ClipOptions.min_frames})")
    p.add_argument("--min-box", type=int,
                   help="the smallest crop box in the raw video's pixels (default: half of "
                        "--size); smaller faces are skipped")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Exit code 1 when some videos gave no clips (the others' are written)."""
    options = ClipOptions(args.size, args.min_box, args.min_frames)
    with progress_bar("preparing") as progress:
        summaries = prepare_videos(args.input, args.output, options, progress)
    for summary in summaries:
        print(summary.line())
    clips = sum(len(s.clips) for s in summaries)
    failed = sum(bool(s.error) for s in summaries)
    print(f"{clips} clips from {len(summaries) - failed} of {len(summaries)} videos in "
          f"{args.output}")
    return 1 if failed else 0
