"""Blinks in a video that the landmarker reads half shut, read shut.

On some faces MediaPipe never brings the lid landmarks together: behind d19's glasses his shut
eyes read 0.5 of their open gap, and d12's one-frame blink 0.55, where d0's read 0. Read as
they are, such a blink closed the driven eyes only half way. So a blink is found as
eye-aspect-ratio blink detection finds one (Soukupová and Čech, 2016): a brief dip of both
eyes' opening well below their own level around it. Its deepest frame is read as shut (the
lids together), the frames on its way down and up in proportion. A squint or a laugh's
narrowed eyes are held longer than a blink, and a wink or a one-sided squint narrows one eye:
neither is a blink. A blink that already reads shut is left as it is.

A dip is told from a held narrowing only once it is over, so the frames are held back that
long: this reads video files, not a webcam's frames, which are driven as they come.
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


def blink_openings(openings: np.ndarray, at: int, fps: float,
                   shut_fraction: float = WARP.eye_shut_fraction) -> np.ndarray:
    """Each eye's opening in frame ``at`` of ``openings`` (frames by the two eyes, NaN where
    no face was found; the frames around ``at``), 0 at the bottom of a blink. An eye outside
    a blink, or whose blink already reads shut (to ``shut_fraction`` of its level or less),
    keeps its reading."""
    own = openings[at]
    with np.errstate(all="ignore"):
        level = np.nanmedian(openings, axis=0)
    if not (level > _OPEN * eyelids()[0].opening(canonical_face().points)).all():
        return own
    with np.errstate(invalid="ignore"):
        low = (openings < _DIP * level).all(axis=1)
    shoulder = max(1, int(_SHOULDER * fps))
    near = [t for t in range(at - shoulder, at + shoulder + 1) if 0 <= t < len(low) and low[t]]
    if not near:
        return own
    start = end = min(near, key=lambda t: abs(t - at))
    while start > 0 and low[start - 1]:
        start -= 1
    while end < len(low) - 1 and low[end + 1]:
        end += 1
    # A dip that runs to the edge of the frames seen may be longer than it looks.
    if start == 0 or end == len(low) - 1 or (end + 1 - start) / fps > _LONGEST:
        return own
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
