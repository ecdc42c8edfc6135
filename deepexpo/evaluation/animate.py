"""Batch animation of a pairs list (the FOMM / DeepExpr ``source,driving`` csv) in worker
processes: one bad row is reported and skipped, the rest finish."""

from __future__ import annotations

import csv
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeepExPoError, InputError


@dataclass(frozen=True)
class Outcome:
    row: int  # 1-based, as in the csv (header not counted)
    source: str
    driving: str
    output: Path | None
    error: str | None = None


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """``source,driving`` rows, with or without that header; paths relative to the csv. An
    empty cell stays empty (``""``, not the csv's folder): that row fails on its own
    (:func:`check_pair`)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read pairs file '{path}': {exc}") from exc
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["source", "driving"]:
        rows = rows[1:]
    bad = [i + 1 for i, r in enumerate(rows) if len(r) < 2]
    if bad or not rows:
        raise InputError(f"'{path.name}' needs 'source,driving' rows (bad rows: {bad or 'none'})")
    base = path.parent
    cells = [[str(base / cell.strip()) if cell.strip() else "" for cell in r[:2]] for r in rows]
    return [(source, driving) for source, driving in cells]


def check_pair(source: str, driving: str) -> None:
    """A row of :func:`read_pairs` names both files, or a one-line :class:`InputError`."""
    empty = [name for name, cell in (("source", source), ("driving", driving)) if not cell]
    if empty:
        raise InputError(f"the row's {' and '.join(empty)} cell is empty")


def _output_name(index: int, source: str, driving: str, video: bool) -> str:
    return f"{index:04d}_{Path(source).stem}_{Path(driving).stem}{'.mp4' if video else '.png'}"


def _animate_one(index: int, source: str, driving: str, folder: str, engine: str) -> Outcome:
    """In a worker: one pair, its error reported as text (the worker's pipeline is reused)."""
    from .. import get_pipeline
    from ..io.images import read_image, write_image
    from ..io.video import is_video

    try:
        check_pair(source, driving)
        pipeline = get_pipeline(engine)
        video = is_video(driving) or is_video(source)
        out = Path(folder) / _output_name(index, source, driving, video)
        if is_video(source):
            pipeline.reenact_video(source, driving, out)
        elif video:
            pipeline.transfer_video(read_image(source), driving, out)
        else:
            write_image(out, pipeline.transfer_image(read_image(source), read_image(driving)))
        return Outcome(index, source, driving, out)
    except DeepExPoError as exc:
        return Outcome(index, source, driving, None, str(exc))


def animate(pairs: Path, output: Path, engine: str = "auto", workers: int = 1,
            progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Render every pair into ``output``; the outcomes in row order."""
    rows = read_pairs(pairs)
    output.mkdir(parents=True, exist_ok=True)
    outcomes = []
    # Spawned, not forked: MediaPipe's and torch's threads do not survive a fork.
    with ProcessPoolExecutor(max(1, workers),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_animate_one, i + 1, s, d, str(output), engine)
                   for i, (s, d) in enumerate(rows)]
        for done, future in enumerate(as_completed(futures), 1):
            outcomes.append(future.result())
            if progress is not None:
                progress(done, len(futures))
    return sorted(outcomes, key=lambda o: o.row)
