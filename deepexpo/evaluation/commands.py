"""The ``evaluate`` and ``animate`` commands of ``python -m deepexpo``. (dlib and matplotlib
are imported only when they run.)"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..engines import ENGINES
from ..errors import InputError
from ..io.video import is_video
from .executors import Executor

logger = logging.getLogger("deepexpo")


def add(subparsers: Any) -> None:
    """The ``evaluate`` and ``animate`` parsers (see :mod:`deepexpo.commands`)."""
    v = subparsers.add_parser("evaluate", help="score an engine: self- or cross-reenactment")
    modes = v.add_subparsers(dest="mode", required=True)
    r = modes.add_parser("reconstruction", help="each video's first face driven by the video "
                                                "itself, scored against the real frames")
    r.add_argument("--videos", nargs="+", required=True, type=Path,
                   help="videos, or folders of videos")
    r.add_argument("--save-frames", action="store_true",
                   help="also write the output frames losslessly (REPORT/png/VIDEO/*.png)")
    c = modes.add_parser("cross", help="sources driven by other people's videos or images")
    c.add_argument("--sources", type=Path, help="folder of source images or videos")
    c.add_argument("--driving", type=Path, help="folder of driving videos or images")
    c.add_argument("--pairs", type=Path, help="csv of 'source,driving' rows instead")
    for mode in (r, c):
        mode.add_argument("--report", required=True, type=Path,
                          help="folder for metrics.json, report.html and plots")
        mode.add_argument("--engine", choices=ENGINES, default="auto")
        _add_executor_options(mode, "videos or pairs",
                              "items scored into this report before", "1: this process")
    v.set_defaults(run=evaluate_command)

    a = subparsers.add_parser("animate", help="render every 'source,driving' row of a csv")
    a.add_argument("--pairs", required=True, type=Path, help="csv of 'source,driving' rows")
    a.add_argument("--output", required=True, type=Path, help="folder for the results")
    a.add_argument("--engine", choices=ENGINES, default="auto")
    _add_executor_options(a, "rows", "rows already written", "1")
    a.set_defaults(run=animate_command)


def _add_executor_options(parser: argparse.ArgumentParser, items: str, done: str,
                          default_workers: str) -> None:
    """Where a batch's tasks run (:func:`_executor`) and whether finished ones are redone."""
    parser.add_argument("--workers", type=int, default=1,
                        help=f"worker processes (default {default_workers})")
    parser.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                        help=f"run the {items} as Ray tasks: on the cluster at ADDRESS, else "
                             "RAY_ADDRESS's, else a local Ray "
                             "(pip install -r requirements-cluster.txt)")
    parser.add_argument("--cpus-per-task", type=float, default=1, help="with --ray (default 1)")
    parser.add_argument("--gpus-per-task", type=float, default=0,
                        help="with --ray (default 0; fractions share a GPU)")
    parser.add_argument("--force", action="store_true",
                        help=f"redo every item (by default a rerun skips the {done})")


def _executor(args: argparse.Namespace) -> Executor | None:
    """Ray with ``--ray``, worker processes with ``--workers`` over 1, else ``None``: the
    command's own default (``animate``: one worker process; ``evaluate``: this process, with
    per-frame progress)."""
    from .executors import LocalPool, RayCluster

    if args.workers < 1:
        raise InputError("--workers must be 1 or more")
    if args.ray is not None:
        return RayCluster(args.ray or None, args.cpus_per_task, args.gpus_per_task)
    return LocalPool(args.workers) if args.workers > 1 else None


def _output_folder(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise InputError(f"'{path}' is a file: give a folder for the results")
    return path


def _videos(paths: list[Path]) -> list[Path]:
    """Videos given, and the videos inside folders given, sorted by name."""
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and is_video(p))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"file not found: '{path}'")
    if not found:
        raise InputError("no videos to evaluate")
    return found


def evaluate_command(args: argparse.Namespace) -> int:
    """Exit code 1 when some items were skipped (the report covers the others)."""
    from .runs import evaluate_cross, evaluate_reconstruction, pairs_from_folders

    _output_folder(args.report)
    executor = _executor(args)
    item = "video" if args.mode == "reconstruction" else "pair"
    with tqdm(unit="frame" if executor is None else item, desc="evaluating") as bar:
        def progress(what: str, done: int, total: int) -> None:
            if what != bar.desc or done < bar.n:  # the next video or pair
                bar.reset(total)
                bar.set_description_str(what, refresh=False)
            bar.update(done - bar.n)

        if args.mode == "reconstruction":
            summary = evaluate_reconstruction(_videos(args.videos), args.engine, args.report,
                                              args.save_frames, progress, executor, args.force)
        else:
            if args.pairs is not None:
                from .animate import read_pairs

                pairs: Sequence[tuple[str | Path, str | Path]] = read_pairs(args.pairs)
            elif args.sources is not None and args.driving is not None:
                pairs = pairs_from_folders(args.sources, args.driving)
            else:
                raise InputError("give --pairs CSV, or both --sources DIR and --driving DIR")
            summary = evaluate_cross(pairs, args.engine, args.report, progress, executor,
                                     args.force)
    figures = ", ".join(f"{k} {v:.4f}" for k, v in summary["mean"].items() if v is not None)
    skipped = len(summary["skipped"])
    print(f"{args.report / 'report.html'}: {figures or 'no scores'}"
          + (f"; {skipped} skipped (see metrics.json)" if skipped else ""))
    return 1 if skipped else 0


def animate_command(args: argparse.Namespace) -> int:
    """Exit code 1 when some rows failed (the others are written)."""
    from .animate import animate

    _output_folder(args.output)
    executor = _executor(args)
    with tqdm(unit="pair", desc="animating") as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        outcomes = animate(args.pairs, args.output, args.engine, executor, args.force,
                           progress)
    failed = [o for o in outcomes if o.error]
    skipped = sum(o.skipped for o in outcomes)
    for outcome in failed:
        logger.warning("row %d (%s, %s): %s", outcome.row, outcome.source, outcome.driving,
                       outcome.error)
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} pairs written to {args.output}"
          + (f" ({skipped} already there, kept; --force redoes them)" if skipped else "")
          + (f"; {len(failed)} failed (rows {', '.join(str(o.row) for o in failed)})"
             if failed else ""))
    return 1 if failed else 0
