"""Batch animation of a pairs list (the FOMM / DeepExpr ``source,driving`` csv, paths relative
to it or fsspec URLs) in worker processes or on a Ray cluster (:mod:`.executors`): one bad row
is reported and skipped, the rest finish; a rerun skips the rows whose output is already
there."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeepExPoError, InputError
from ..io.remote import is_url, local_copy
from .executors import Executor, LocalPool


@dataclass(frozen=True)
class Outcome:
    row: int  # 1-based, as in the csv (header not counted)
    source: str
    driving: str
    output: Path | None
    error: str | None = None
    skipped: bool = False  # already written by an earlier run


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
    cells = [[_cell(base, cell.strip()) for cell in r[:2]] for r in rows]
    return [(source, driving) for source, driving in cells]


def _cell(base: Path, cell: str) -> str:
    """A path relative to ``base``, an fsspec URL as it is, or ``""``."""
    return cell if not cell or is_url(cell) else str(base / cell)


def check_pair(source: str, driving: str) -> None:
    """A row of :func:`read_pairs` names both files, or a one-line :class:`InputError`."""
    empty = [name for name, cell in (("source", source), ("driving", driving)) if not cell]
    if empty:
        raise InputError(f"the row's {' and '.join(empty)} cell is empty")


def output_path(folder: Path, index: int, source: str, driving: str) -> Path:
    """Where row ``index`` is written: an ``.mp4`` when either side is a video."""
    from ..io.video import is_video

    video = is_video(driving) or is_video(source)
    return folder / f"{index:04d}_{Path(source).stem}_{Path(driving).stem}" \
                    f"{'.mp4' if video else '.png'}"


def _animate_one(index: int, source: str, driving: str, folder: str, engine: str) -> Outcome:
    """In a worker: one pair, its error reported as text (the worker's pipeline is reused)."""
    from .. import get_pipeline
    from ..io.images import read_image, write_image
    from ..io.video import is_video

    try:
        check_pair(source, driving)
        pipeline = get_pipeline(engine)
        video = is_video(driving) or is_video(source)
        out = output_path(Path(folder), index, source, driving)
        with local_copy(source) as source_file, local_copy(driving) as driving_file:
            if is_video(source):
                pipeline.reenact_video(source_file, driving_file, out)
            elif video:
                pipeline.transfer_video(read_image(source_file), driving_file, out)
            else:
                write_image(out, pipeline.transfer_image(read_image(source_file),
                                                         read_image(driving_file)))
        return Outcome(index, source, driving, out)
    except DeepExPoError as exc:
        return Outcome(index, source, driving, None, str(exc))


def animate(pairs: Path, output: Path, engine: str = "auto",
            executor: Executor | None = None, force: bool = False,
            progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Render every pair into ``output`` (on ``executor``, one local process by default); the
    outcomes in row order. A row whose output exists is skipped unless ``force``: outputs are
    written atomically, so a file under the output name is whole."""
    rows = read_pairs(pairs)
    output.mkdir(parents=True, exist_ok=True)
    outcomes, tasks = [], []
    for index, (source, driving) in enumerate(rows, 1):
        done = output_path(output, index, source, driving)
        if source and driving and done.is_file() and not force:
            outcomes.append(Outcome(index, source, driving, done, skipped=True))
        else:
            tasks.append((index, source, driving, str(output), engine))
    if progress is not None:
        progress(len(outcomes), len(rows))
    for outcome in (executor or LocalPool()).map_unordered(_animate_one, tasks):
        outcomes.append(outcome)
        if progress is not None:
            progress(len(outcomes), len(rows))
    return sorted(outcomes, key=lambda o: o.row)
