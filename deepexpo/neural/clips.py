"""Training data of the neural engine: face-cropped clips (``prepare-videos``' output) and
pairs of frames drawn from them.

A clips folder holds ``*.mp4`` files at any depth, each a square face crop of one person, and
optionally ``clips.json`` (``{"size": 256, "clips": [{"path": "a/b.mp4", ...}, ...]}``) that
lists them; without it every ``.mp4`` is a clip. A pair is two frames of one clip: the source
gives the identity, the driving frame the motion and the target pixels.

Which clip, which frames and whether the pair is mirrored are drawn from the step number and
the seed alone (:class:`PairSampler`), so a resumed run draws the same pairs as one that never
stopped, and each process of a multi-GPU run draws its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..errors import InputError

logger = logging.getLogger(__name__)

CLIPS_INDEX = "clips.json"


@dataclass(frozen=True)
class Clip:
    path: Path
    frames: int
    side: int  # the clips are square; the smaller side if one is not


@dataclass(frozen=True)
class PairDraw:
    """One training pair: frames ``source`` and ``driving`` of clip ``clip``."""

    clip: int
    source: int
    driving: int
    mirror: bool


def clip_paths(folder: Path) -> list[Path]:
    """The clips ``clips.json`` lists, else every ``.mp4`` under ``folder``."""
    if not folder.is_dir():
        raise InputError(f"--data must be a folder of clips, not '{folder}'")
    index = folder / CLIPS_INDEX
    if not index.is_file():
        return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".mp4" and p.is_file())
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))["clips"]
        return [folder / entry["path"] for entry in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"'{index}' is not a clips index ({{\"clips\": [{{\"path\": ...}}]}}): "
                         f"{exc}") from exc


def _probe(path: Path) -> Clip:
    """The clip's length and size, its first and last frames read to prove it decodes."""
    if not path.is_file():
        raise ValueError("not found")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ValueError("not a readable video")
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        ok, first = capture.read()
        if not ok:
            raise ValueError("no frame decodes")
        if count >= 2:
            capture.set(cv2.CAP_PROP_POS_FRAMES, count - 1)
            ok, _ = capture.read()
            if not ok:
                raise ValueError(f"its header says {count} frames but the last does not decode")
    finally:
        capture.release()
    if count < 2:
        raise ValueError("has one frame; a pair needs two")
    return Clip(path, count, min(first.shape[:2]))


def open_clips(folder: Path) -> list[Clip]:
    """Every usable clip in ``folder``; the unusable ones are skipped with a warning each, and
    when none is left a one-line :class:`InputError` says why."""
    paths = clip_paths(folder)
    if not paths:
        raise InputError(f"no .mp4 clips in '{folder}' (make them with `python -m deepexpo "
                         "prepare-videos`)")
    clips, problems = [], []
    for path in paths:
        try:
            clips.append(_probe(path))
        except ValueError as exc:
            shown = path.relative_to(folder) if path.is_relative_to(folder) else path
            problems.append(f"'{shown}' {exc}")
    if not clips:
        listed = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more"
                                            if len(problems) > 3 else "")
        raise InputError(f"no usable clip in '{folder}': {listed}")
    for problem in problems:
        logger.warning("skipping clip %s", problem)
    return clips


def hold_out(clips: list[Clip], count: int) -> tuple[list[Clip], list[Clip]]:
    """(training clips, held-back clips for evaluation): the last ``count`` clips by path,
    never all of them."""
    count = min(count, len(clips) - 1)
    ordered = sorted(clips, key=lambda c: str(c.path))
    return (ordered[: len(ordered) - count], ordered[len(ordered) - count:]) if count > 0 \
        else (ordered, [])


def read_frames(path: Path, indices: tuple[int, ...]) -> list[np.ndarray]:
    """RGB frames ``indices`` of a clip, seeking to each."""
    capture = cv2.VideoCapture(str(path))
    try:
        frames = []
        for index in indices:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = capture.read()
            if not ok:
                raise InputError(f"cannot read frame {index} of clip '{path}'")
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        return frames
    finally:
        capture.release()


def _tensor(frame: np.ndarray, side: int, mirror: bool) -> torch.Tensor:
    """(3, side, side) in [0, 1], the frame's centre square resized (area when shrinking)."""
    h, w = frame.shape[:2]
    s = min(h, w)
    frame = frame[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    if s != side:
        frame = cv2.resize(frame, (side, side),
                           interpolation=cv2.INTER_AREA if s > side else cv2.INTER_LINEAR)
    if mirror:
        frame = frame[:, ::-1]
    return torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1).float() / 255.0


class FramePairs(Dataset):
    """A :class:`PairDraw` -> ``source`` and ``driving`` at the networks' input size, and
    ``target``: the driving frame at the size the loss compares."""

    def __init__(self, clips: list[Clip], input_side: int, target_side: int):
        self.clips, self.input_side, self.target_side = clips, input_side, target_side

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, draw: PairDraw) -> dict[str, torch.Tensor]:
        source, driving = read_frames(self.clips[draw.clip].path, (draw.source, draw.driving))
        return {"source": _tensor(source, self.input_side, draw.mirror),
                "driving": _tensor(driving, self.input_side, draw.mirror),
                "target": _tensor(driving, self.target_side, draw.mirror)}


class PairSampler(Sampler[list[PairDraw]]):
    """Batches of pairs for steps ``start`` .. ``stop - 1``: each a function of (seed, step,
    rank) only. Clips are drawn uniformly, two distinct frames of the clip at random."""

    def __init__(self, clips: list[Clip], batch: int, start: int, stop: int, seed: int,
                 rank: int = 0):
        self.frames = [c.frames for c in clips]
        self.batch, self.start, self.stop, self.seed, self.rank = batch, start, stop, seed, rank

    def __len__(self) -> int:
        return self.stop - self.start

    def draws(self, step: int) -> list[PairDraw]:
        rng = np.random.default_rng([self.seed, step, self.rank])
        out = []
        for _ in range(self.batch):
            clip = int(rng.integers(len(self.frames)))
            source, driving = rng.choice(self.frames[clip], size=2, replace=False)
            out.append(PairDraw(clip, int(source), int(driving), bool(rng.random() < 0.5)))
        return out

    def __iter__(self) -> Iterator[list[PairDraw]]:
        for step in range(self.start, self.stop):
            yield self.draws(step)
