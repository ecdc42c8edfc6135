"""Blinks in a video that the landmarker reads half shut, read shut.

On some faces MediaPipe never brings the lid landmarks together: behind d19's glasses his shut
eyes read 0.5 of their open gap, and d12's one-frame blink 0.55, where d0's read 0. Read as
they are, such a blink closed the driven eyes only half way. So a blink is found as
eye-aspect-ratio blink detection finds one (Soukupová and Čech, 2016): a brief dip of both
eyes' opening well below their own level around it. Its deepest frame is read as shut (the
lids together), the frames on its way down and up in proportion. A squint or a laugh's
narrowed eyes are held longer than a blink, and a wink or a one-sided squint narrows one eye:
neither is a blink. A blink that already reads shut is left as it is.

A dip is told from a held narrowing only once it is over, so a video's frames are held back
that long (:class:`BlinkReader`). A webcam's are driven as they come: there the blinks found
late only teach how shut this person's blinks read, and every frame is read against that
(:class:`LiveBlinks`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from ..config import WARP
from ..face.canonical import canonical_face
from ..face.landmarks import FaceLandmarks
from .extract import extract_motion
from .eyelids import eyelids

#: Both eyes below this fraction of their level ...
_DIP = 0.75
#: ... for no longer than this (seconds; a blink takes 0.1 to 0.4 s) is a blink.
_LONGEST = 0.4
#: An eye's level: its median opening over this long (seconds) either side of the frame.
_AROUND = 0.5
#: A live view's eye level is its median over this long (seconds) ...
_LEVEL_OVER = 2.0
#: ... followed this slowly (seconds).
_LEVEL_SETTLES = 1.0
#: Frames this close (seconds) to the dip are the lid on its way down or up.
_SHOULDER = 0.05
#: An eye whose level is under this fraction of the canonical eye's gap is not open.
_OPEN = 0.3


def _openings(face: FaceLandmarks | None) -> np.ndarray:
    """Each eye's lid gap (canonical frame), NaN without a face."""
    if face is None:
        return np.full(2, np.nan)
    canonical = extract_motion(face).canonical
    return np.array([lid.opening(canonical) for lid in eyelids()])


def _level(openings: np.ndarray) -> np.ndarray | None:
    """Each eye's level over ``openings`` (frames by the two eyes): its median; ``None`` where
    an eye is not open there (too few frames with a face, or shut throughout)."""
    with np.errstate(all="ignore"):
        level = np.nanmedian(openings, axis=0)
    if not (level > _OPEN * eyelids()[0].opening(canonical_face().points)).all():
        return None
    return level


def _dip(openings: np.ndarray, level: np.ndarray, at: int, fps: float,
         near: int) -> tuple[int, int] | None:
    """The first and last frame of the blink in ``openings`` (each eye at ``level``) at or
    within ``near`` frames of frame ``at``: the nearest brief dip of both eyes."""
    with np.errstate(invalid="ignore"):
        low = (openings < _DIP * level).all(axis=1)
    dipped = [t for t in range(at - near, at + near + 1) if 0 <= t < len(low) and low[t]]
    if not dipped:
        return None
    start = end = min(dipped, key=lambda t: abs(t - at))
    while start > 0 and low[start - 1]:
        start -= 1
    while end < len(low) - 1 and low[end + 1]:
        end += 1
    # A dip that runs to the edge of the frames seen may be longer than it looks.
    if start == 0 or end == len(low) - 1 or (end + 1 - start) / fps > _LONGEST:
        return None
    return start, end


def blink_openings(openings: np.ndarray, at: int, fps: float,
                   shut_fraction: float = WARP.eye_shut_fraction) -> np.ndarray:
    """Each eye's opening in frame ``at`` of ``openings`` (frames by the two eyes, NaN where
    no face was found; the frames around ``at``), 0 at the bottom of a blink. An eye outside
    a blink, or whose blink already reads shut (to ``shut_fraction`` of its level or less),
    keeps its reading."""
    own = openings[at]
    level = _level(openings)
    dip = None if level is None else _dip(openings, level, at, fps,
                                          max(1, int(_SHOULDER * fps)))
    if level is None or dip is None:
        return own
    start, end = dip
    bottom = openings[start:end + 1].min(axis=0)
    # How far through the blink the lids are: the two move together, so the mean of the
    # eyes' (a one-sided reading of a lid on its way shut a single eye).
    through = np.clip((level - own) / np.maximum(level - bottom, 1e-9), 0.0, 1.0).mean()
    read = level * (1.0 - through)
    return np.where(bottom > shut_fraction * level, np.minimum(read, own), own)


def with_openings(face: FaceLandmarks, openings: np.ndarray) -> FaceLandmarks:
    """``face`` with each eye's upper lid brought down to ``openings`` (canonical gaps; an eye
    already narrower, or asked for ``inf``, keeps its own)."""
    motion = extract_motion(face)
    offset = np.zeros_like(motion.canonical)
    for lid, wanted in zip(eyelids(), openings):
        now = lid.opening(motion.canonical)
        if wanted < now:
            offset += lid.opening_to(motion.canonical,
                                     lid.gaps(motion.canonical) * max(wanted, 0.0) / now)
    pose = motion.pose
    return replace(face, points=face.points + pose.scale * offset @ pose.rotation.T)


@dataclass(frozen=True)
class _Held:
    frame: np.ndarray
    face: FaceLandmarks | None  # smoothed
    openings: np.ndarray  # as found, unsmoothed: smoothing shaves a blink of a frame or two


class BlinkReader:
    """Frames of a video with their (smoothed) landmarks, in order, each given back
    :data:`_AROUND` seconds later with a blink the landmarker read half shut brought shut."""

    def __init__(self, fps: float):
        self.fps = fps
        self.around = max(1, round(_AROUND * fps))
        self.held: deque[_Held] = deque()  # frames not given back yet
        # The eyes' openings in the frames given back last (only they: a frame is not kept
        # once given back).
        self.behind: deque[np.ndarray] = deque(maxlen=self.around)

    def feed(self, frame: np.ndarray, face: FaceLandmarks | None,
             found: FaceLandmarks | None) -> Iterator[tuple[np.ndarray, FaceLandmarks | None]]:
        """Takes a frame, its smoothed ``face`` and the ``found`` landmarks it was smoothed
        from; yields the frames whose blinks are now known."""
        self.held.append(_Held(frame, face, _openings(found)))
        while len(self.held) > self.around:
            yield self._read()

    def flush(self) -> Iterator[tuple[np.ndarray, FaceLandmarks | None]]:
        """The frames still held, at the end of the video."""
        while self.held:
            yield self._read()

    def _read(self) -> tuple[np.ndarray, FaceLandmarks | None]:
        held = self.held.popleft()
        face = held.face
        if face is not None and not face.placed:
            openings = np.array([*self.behind, held.openings, *(h.openings for h in self.held)])
            read = blink_openings(openings, len(self.behind), self.fps)
            if (read < held.openings).any():  # its lids as found, not as smoothed
                face = with_openings(face, np.where(read < held.openings, read, np.inf))
        self.behind.append(held.openings)
        return held.frame, face


class LiveBlinks:
    """A webcam's landmarks, each given back at once, its eyes read against how shut this
    person's blinks have read so far.

    A dip is told from a held narrowing only once it is over, which a live view cannot wait
    for; reading every dip as a blink as it starts shut the eyes of a squint or a laugh, and
    they jumped open when it outlasted a blink. So no frame is decided: blinks are only
    learned from, found :data:`_AROUND` seconds late as :class:`BlinkReader` finds them, and
    every frame's openings are mapped linearly from [the deepest blink's bottom, the eye's
    level] to [shut, the level], one map for all frames: a blink reads shut, a narrowing
    proportionally narrower (behind d19's glasses a squint that reads 0.7 of his open eye
    shows a third of it), an eye at or above its level as it is. The deepest blink sets the
    map, as a webcam's frames may catch a blink short of its bottom; a blink that reads shut
    leaves it the identity. An eye's level is its median opening over the last
    :data:`_LEVEL_OVER` seconds, followed slowly, so that no held narrowing moves it at once
    (the map moves with it)."""

    def __init__(self, fps: float, shut_fraction: float = WARP.eye_shut_fraction):
        self.fps, self.shut_fraction = fps, shut_fraction
        self.around = max(1, round(_AROUND * fps))
        # The eyes' openings in the last frames, as found and as smoothed: the frame
        # :attr:`around` frames back is told a blink or not.
        self.found: deque[np.ndarray] = deque(maxlen=max(2 * self.around + 1,
                                                         round(_LEVEL_OVER * fps)))
        self.smoothed: deque[np.ndarray] = deque(maxlen=self.around + 1)
        # Each eye's (smoothed) opening at the bottom of the deepest blink yet, over its level:
        # the smoothing shaves a blink, and it is the smoothed eye that is read against it.
        self.depth: np.ndarray | None = None
        self.level: np.ndarray | None = None

    def __call__(self, face: FaceLandmarks | None,
                 found: FaceLandmarks | None) -> FaceLandmarks | None:
        """``face`` (smoothed from the ``found`` landmarks) with its eyes read against this
        person's blinks."""
        own = _openings(face)
        read = self.read(own, _openings(found))
        if face is None or face.placed or not (read < own).any():
            return face
        return with_openings(face, np.where(read < own, read, np.inf))

    def read(self, own: np.ndarray, found: np.ndarray) -> np.ndarray:
        """Each eye's opening in the next frame (``own``: smoothed, ``found``: as found; NaN
        without a face), read against this person's blinks."""
        self.found.append(found)
        self.smoothed.append(own)
        self._follow()
        self._learn()
        if self.depth is None or self.level is None:
            return own
        return np.minimum(self.level * self._remap(own / self.level, self.depth), own)

    def _follow(self) -> None:
        """The eyes' level, a step nearer their median opening."""
        with np.errstate(all="ignore"):
            median = np.nanmedian(np.array(self.found), axis=0)
        if np.isnan(median).any():
            return
        self.level = median if self.level is None else \
            self.level + (median - self.level) / max(1.0, _LEVEL_SETTLES * self.fps)

    def _learn(self) -> None:
        """How shut the frame :attr:`around` frames back reads, if it is in a blink."""
        openings = np.array(self.found)[-(2 * self.around + 1):]
        if len(openings) < 2 * self.around + 1 or self.level is None:
            return
        level = _level(openings)
        if level is None or _dip(openings, level, self.around, self.fps, 0) is None:
            return
        depth = self.smoothed[0] / self.level
        self.depth = depth if self.depth is None else np.minimum(self.depth, depth)

    def _remap(self, fraction: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Each eye's opening over its level, read against its blinks' ``depth``: continuous
        in both, and the identity for a blink that reads shut."""
        shut = self.shut_fraction
        bottom = np.maximum(depth, shut)
        remapped = shut + (1.0 - shut) * (fraction - bottom) / (1.0 - bottom)
        return np.where(fraction < 1.0, np.maximum(remapped, 0.0), fraction)
