"""Evaluation runs (DeepExpr's ``run.py`` modes): self-reenactment ("reconstruction") of test
videos against their real frames, with a still-source baseline, and cross-reenactment of
source/driver pairs. Each writes ``metrics.json`` and an HTML report into a folder.

Each video or pair is one task, scored here or on an executor (:mod:`.executors`: worker
processes, a Ray cluster); its scores are cached in ``REPORT/scores/`` as it finishes, so an
interrupted run, rerun, continues where it stopped."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engines import TransferEngine
from ..errors import DeepExPoError, NoFaceError
from ..io.images import read_image, write_image
from ..io.output import atomic_output
from ..io.remote import local_copy
from ..io.video import is_video, iter_frames, probe_video
from ..pipeline import TransferPipeline
from . import metrics
from .animate import check_pair
from .executors import Executor
from .report import write_report
from .scorer import DlibScorer, ScoredFace, shared_scorer

logger = logging.getLogger(__name__)

#: An engine by its registered name (loaded once per worker), or one already loaded (a
#: checkpoint being trained; scored in this process only).
EngineChoice = str | TransferEngine
#: Cross-reenactment's per-frame scores: identity against the source, shape against the driver.
CROSS_KEYS = ("csim", "id_distance", "aed", "apd")
Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class Curves:
    """Per-frame signals (:data:`metrics.SIGNALS`) of the target (real frame or driver) and of the
    output, NaN where dlib found no face; and how closely the output follows the target."""

    target: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in metrics.SIGNALS})
    output: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in metrics.SIGNALS})

    def add(self, target: ScoredFace | None, output: ScoredFace | None) -> None:
        for curves, face in ((self.target, target), (self.output, output)):
            for key, value in metrics.signals(face).items():
                curves[key].append(value)

    def correlations(self) -> dict[str, float | None]:
        """``r_<signal>``: Pearson r between target and output over the frames where both have
        a value; ``None`` where fewer than 10 such frames or the target does not vary."""
        out = {}
        for key in metrics.SIGNALS:
            t, o = np.asarray(self.target[key]), np.asarray(self.output[key])
            both = np.isfinite(t) & np.isfinite(o)
            valid = both.sum() >= 10 and np.std(t[both]) > 1e-9 and np.std(o[both]) > 1e-9
            out[f"r_{key}"] = float(np.corrcoef(t[both], o[both])[0, 1]) if valid else None
        return out

    def blink(self) -> float | None:
        """How open the output's eyes stay while the target's are closed: the output's eye
        openness over its own median, at the frames where the target's is under 65 % of its
        median (a blink: dlib's lids never meet, a shut eye reads about half open). ``None``
        if the target never blinks."""
        t, o = np.asarray(self.target["eyes"]), np.asarray(self.output["eyes"])
        both = np.isfinite(t) & np.isfinite(o)
        if not both.any():  # no frame where dlib found both faces (nor a NaN-median warning)
            return None
        closed = both & (t < 0.65 * np.nanmedian(t))
        if not closed.any():
            return None
        return float(np.median(o[closed]) / np.median(o[both]))


@dataclass
class Scored:
    """One video's or pair's scores, curves and a few frames for the sample grid."""

    name: str
    rows: list[dict[str, float]] = field(default_factory=list)
    baseline: list[dict[str, float]] = field(default_factory=list)
    curves: Curves = field(default_factory=Curves)
    samples: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    frames: int = 0
    found: int = 0
    engine: str = ""  # the engine that rendered it (what ``auto`` chose on its worker)

    def save(self, path: Path) -> None:
        """Into an ``.npz`` of arrays and a JSON string (nothing pickled), written atomically."""
        meta = {"name": self.name, "engine": self.engine, "frames": self.frames,
                "found": self.found, "rows": self.rows, "baseline": self.baseline,
                "target": self.curves.target, "output": self.curves.output,
                "samples": len(self.samples)}
        images = {f"{side}_{i}": image for i, pair in enumerate(self.samples)
                  for side, image in zip(("target", "output"), pair, strict=True)}
        with atomic_output(path) as partial:
            np.savez(partial, meta=np.array(json.dumps(meta)), **images)

    @classmethod
    def load(cls, path: Path) -> Scored | None:
        """What :meth:`save` wrote, or ``None`` where there is no such whole file."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                samples = [(data[f"target_{i}"], data[f"output_{i}"])
                           for i in range(meta["samples"])]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None
        return cls(meta["name"], meta["rows"], meta["baseline"],
                   Curves(meta["target"], meta["output"]), samples, meta["frames"],
                   meta["found"], meta["engine"])


def _first_face(pipeline: TransferPipeline, path: Path) -> np.ndarray:
    """The first frame of a video in which our landmarker finds a face (read no further)."""
    with contextlib.closing(iter_frames(probe_video(path, pipeline.limits), pipeline.limits)) \
            as frames:
        for frame in frames:
            try:
                pipeline.detect(frame, path.name)
                return frame
            except NoFaceError:
                continue
    raise NoFaceError(f"no face found in any frame of video '{path.name}'")


def reconstruct(pipeline: TransferPipeline, scorer: DlibScorer, video: Path,
                frames_dir: Path | None, progress: Progress | None) -> Scored:
    """The video's first frame with a face is the source and the whole video drives it; each
    output frame is scored against the real one, and so is the still source (the baseline).
    Frames are streamed, never all held at once."""
    info = probe_video(video, pipeline.limits)
    source = _first_face(pipeline, video)
    source_face = scorer.face(source)
    scored = Scored(video.stem)
    real = iter_frames(info, pipeline.limits)
    outputs = pipeline.transfer_frames(source, video)
    for index, (frame, output) in enumerate(zip(real, outputs, strict=True)):
        scored.frames += 1
        real_face, out_face = scorer.face(frame), scorer.face(output)
        scored.curves.add(real_face, out_face)
        if frames_dir is not None:
            write_image(frames_dir / video.stem / f"{index:05d}.png", output)
        if index % max(1, info.frame_count // 4) == 0 and len(scored.samples) < 4:
            scored.samples.append((frame, output))
        if real_face is not None:
            scored.baseline.append(_reconstruction_scores(source, source_face, frame, real_face,
                                                          source_face))
            if out_face is not None:
                scored.found += 1
                scored.rows.append(_reconstruction_scores(output, out_face, frame, real_face,
                                                          source_face))
        if progress is not None:
            progress(video.name, index + 1, info.frame_count)
    return scored


def _reconstruction_scores(output: np.ndarray, out_face: ScoredFace | None, real: np.ndarray,
                           real_face: ScoredFace, source_face: ScoredFace | None
                           ) -> dict[str, float]:
    row = metrics.pixel_scores(output, real, real_face)
    if out_face is not None:
        row |= metrics.shape_scores(out_face, real_face)
        if source_face is not None:
            row |= metrics.identity_score(out_face, source_face)
    return row


def evaluate_reconstruction(videos: Iterable[Path], engine: EngineChoice, report: Path,
                            save_frames: bool = False, progress: Progress | None = None,
                            executor: Executor | None = None, force: bool = False) -> dict:
    """Score every video (here, or one task per video on ``executor``), write
    ``report/metrics.json`` and ``report/report.html``. Videos scored by an earlier run into
    ``report`` are read from its cache unless ``force``."""
    frames_dir = report / "png" if save_frames else None
    items = [({"video": str(video)}, (Path(video), frames_dir)) for video in videos]
    scored, skipped = _score_all(reconstruct, "videos", items, engine, report, executor, force,
                                 progress)
    results = [s for _, s in scored]
    summary = {
        "engine": _engine_name(results, engine),
        "videos": [{"name": r.name, "frames": r.frames, **metrics.mean(r.rows)} for r in results],
        "mean": metrics.mean([row for r in results for row in r.rows]),
        "baseline": metrics.mean([row for r in results for row in r.baseline]),
        "skipped": skipped,
    }
    _write(report, summary, results, "reconstruction")
    return summary


def cross(pipeline: TransferPipeline, scorer: DlibScorer, source_path: str | Path,
          driving_path: str | Path, progress: Progress | None) -> Scored:
    """The source driven by the driver: identity against the source, expression and pose
    against the driver, and how many output frames still hold a face."""
    check_pair(str(source_path), str(driving_path))  # before "" becomes Path(".")
    source_path, driving_path = Path(source_path), Path(driving_path)
    source = (_first_face(pipeline, source_path) if is_video(source_path)
              else read_image(source_path, pipeline.limits))
    source_face = scorer.face(source)
    if is_video(driving_path):
        info = probe_video(driving_path, pipeline.limits)
        drivers: Iterable[np.ndarray] = iter_frames(info, pipeline.limits)
        outputs: Iterable[np.ndarray] = pipeline.transfer_frames(source, driving_path)
        total = info.frame_count
    else:
        drivers = [read_image(driving_path, pipeline.limits)]
        outputs = [pipeline.transfer_image(source, drivers[0])]
        total = 1
    scored = Scored(f"{source_path.stem}-{driving_path.stem}")
    for index, (driver, output) in enumerate(zip(drivers, outputs, strict=True)):
        scored.frames += 1
        if progress is not None:
            progress(scored.name, index + 1, total)
        driver_face, out_face = scorer.face(driver), scorer.face(output)
        scored.curves.add(driver_face, out_face)
        if len(scored.samples) < 4 and index % max(1, total // 4) == 0:
            scored.samples.append((driver, output))
        if out_face is None:
            continue
        scored.found += 1
        row = metrics.identity_score(out_face, source_face) if source_face is not None else {}
        if driver_face is not None:
            row |= {k: v for k, v in metrics.shape_scores(out_face, driver_face).items()
                    if k != "akd"}
        scored.rows.append(row)
    return scored


def evaluate_cross(pairs: Iterable[tuple[str | Path, str | Path]], engine: EngineChoice,
                   report: Path,
                   progress: Progress | None = None, executor: Executor | None = None,
                   force: bool = False) -> dict:
    """Score every pair (here, or one task per pair on ``executor``), write the report; pairs
    scored by an earlier run into ``report`` are read from its cache unless ``force``."""
    items = [({"source": str(source), "driving": str(driving)}, (source, driving))
             for source, driving in pairs]
    scored, skipped = _score_all(cross, "pairs", items, engine, report, executor, force,
                                 progress)
    rows = [{**item, **metrics.mean(s.rows, CROSS_KEYS), **s.curves.correlations(),
             "blink": s.curves.blink(), "face_rate": s.found / max(s.frames, 1)}
            for item, s in scored]
    keys = (*CROSS_KEYS, *(f"r_{k}" for k in metrics.SIGNALS), "blink", "face_rate")
    results = [s for _, s in scored]
    summary = {"engine": _engine_name(results, engine), "pairs": rows,
               "mean": metrics.mean(rows, keys), "skipped": skipped}
    _write(report, summary, results, "cross-reenactment")
    return summary


@dataclass(frozen=True)
class ItemOutcome:
    """What a task sends back: the item's scores, or why it was skipped."""

    index: int
    scored: Scored | None
    error: str | None = None


def _score_item(index: int, score: Callable[..., Scored],
                engine: EngineChoice | TransferPipeline, inputs: tuple[object, ...],
                cache: Path, progress: Progress | None = None) -> ItemOutcome:
    """In a worker (or here): one item scored and cached, or the reason it cannot be read (a
    damaged video, a file that is no image, no face) as text. The engine and dlib load once
    per process and serve every task it runs; a failure to load them ends the run."""
    pipeline = _pipeline(engine)
    scorer = shared_scorer()
    try:
        with contextlib.ExitStack() as stack:  # URLs read from local copies
            files = [stack.enter_context(local_copy(i)) if isinstance(i, str) else i
                     for i in inputs]
            scored = score(pipeline, scorer, *files, progress)
    except DeepExPoError as exc:
        return ItemOutcome(index, None, str(exc))
    scored.engine = pipeline.engine.name
    scored.save(cache)
    return ItemOutcome(index, scored)


def _pipeline(engine: EngineChoice | TransferPipeline) -> TransferPipeline:
    """The pipeline that renders with ``engine`` (a named engine's is loaded once a process)."""
    from .. import get_pipeline

    if isinstance(engine, TransferPipeline):
        return engine
    return get_pipeline(engine) if isinstance(engine, str) else TransferPipeline(engine)


def _cache_path(report: Path, score: Callable[..., Scored], engine: EngineChoice, item: dict,
                inputs: tuple[object, ...]) -> Path:
    """Where an item's scores are cached: named by the item's files, and keyed by what was
    scored, with which engine and options, and the inputs' sizes and times, so a changed input
    is scored again."""
    stats = [(s.st_size, s.st_mtime_ns) if (s := _stat(i)) else None for i in inputs]
    key = json.dumps([score.__name__, _asked(engine), [str(i) for i in inputs], stats])
    stem = "-".join(Path(value).stem for value in item.values())[:120]  # a file name's room
    return report / "scores" / f"{stem}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def _stat(path: object) -> os.stat_result | None:
    try:
        return os.stat(str(path)) if path else None
    except OSError:
        return None


def _score_all(score: Callable[..., Scored], what: str,
               items: Sequence[tuple[dict, tuple[object, ...]]], engine: EngineChoice,
               report: Path,
               executor: Executor | None, force: bool, progress: Progress | None
               ) -> tuple[list[tuple[dict, Scored]], list[dict]]:
    """Every item scored: read from the cache, here with per-frame ``progress``, or as tasks
    on ``executor`` with per-item progress (``what`` they are). The scored items and the
    skipped ones (each with its error), in the items' order."""
    results: dict[int, Scored] = {}
    tasks = []
    for index, (item, inputs) in enumerate(items):
        cache = _cache_path(report, score, engine, item, inputs)
        cached = None if force else Scored.load(cache)
        if cached is not None:
            results[index] = cached
        else:
            tasks.append((index, score, engine, inputs, cache))
    errors: dict[int, str] = {}
    if executor is None:  # one pipeline for every item (not built when all are cached)
        here = _pipeline(engine) if tasks else engine
        outcomes: Iterable[ItemOutcome] = (
            _score_item(index, score, here, inputs, cache, progress)
            for index, _, _, inputs, cache in tasks)
    else:
        outcomes = executor.map_unordered(_score_item, tasks)
        if progress is not None:
            progress(what, len(results), len(items))
    for outcome in outcomes:
        if outcome.scored is not None:
            results[outcome.index] = outcome.scored
        else:
            errors[outcome.index] = str(outcome.error)
            item = items[outcome.index][0]
            logger.warning("skipped %s: %s", ", ".join(Path(v).name for v in item.values()),
                           outcome.error)
        if executor is not None and progress is not None:
            progress(what, len(results) + len(errors), len(items))
    return ([(items[i][0], results[i]) for i in sorted(results)],
            [{**items[i][0], "error": errors[i]} for i in sorted(errors)])


def _engine_name(results: list[Scored], engine: EngineChoice) -> str:
    """The engines that rendered the results (``engine`` as asked where none did)."""
    return ", ".join(sorted({r.engine for r in results})) or _asked(engine)


def _asked(engine: EngineChoice) -> str:
    return engine if isinstance(engine, str) else engine.name


def _write(report: Path, summary: dict, results: list[Scored], kind: str) -> None:
    report.mkdir(parents=True, exist_ok=True)
    with atomic_output(report / "metrics.json") as partial:
        partial.write_text(json.dumps(summary, indent=2, allow_nan=False))
    write_report(report, summary, results, kind)


def pairs_from_folders(sources: Path, drivers: Path) -> list[tuple[Path, Path]]:
    """Every source with every driver (images and videos, sorted by name)."""
    def files(folder: Path) -> list[Path]:
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    return [(s, d) for s in files(sources) for d in files(drivers)]
