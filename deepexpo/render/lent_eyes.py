"""A source video's shut eye drawn from the last frame that showed it open.

An engine that moves a frame's pixels has no eye behind a shut lid to open (the warp keeps such
an eye shut: :func:`~deepexpo.motion.eyelids.opened_as_shown`), so a source video driven by an
open-eyed driver blinked where the source did, not where the driver does. The frames just before
a blink show the same eye open, lit alike and nearly in place: :class:`EyeLender` remembers each
eye's last open frame and, in a frame that shows that eye shut, draws the eye and its lids from
it (placed by the eye's corners and brow, blended in over the lids), with its landmarks, so the
motion read from the frame has the eye open and the driver decides when it shuts. A blink in
the video's first frames has no open frame before it: it is drawn from the first open frame
that follows (the video's start held back that long).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..face.landmarks import FaceLandmarks
from ..face.measure import eye_openings
from ..geometry.boxes import PixelBox
from ..motion.eyelids import Eyelid, eyelids

#: An eye counts as open at this fraction of the widest the video has shown it lately (over
#: WIDEST_OVER times the longest blink lent: a wide-eyed moment long past is no measure; its
#: frame may lend it); a blink begins where either eye shows less than this one, and lasts
#: while they show less than the first: closing or opening again, half-open lids between an
#: eye lent and the frame's own flickered.
OPEN_FROM = 0.85
SHUT_BELOW = 0.65
WIDEST_OVER = 3
#: The lent eye is blended in over its lids and this many of its widths around them, fading
#: out over the outer half of that.
BLEND_MARGIN = 0.25


@dataclass
class _Donor:
    frame: np.ndarray
    points: np.ndarray


class EyeLender:
    """Fed each frame of one video in order (and its face, or None), returns the frames that
    are ready, and their faces, with the eyes they show shut or half shut in a blink drawn from
    the last frame that showed each open, at most ``max_age`` frames back (a blink that lasts
    longer, an eye that stays narrowed, is the video's own: left as it is).

    A video that starts in a blink has no frame before it that showed the eye open: its first
    ``max_age + 1`` frames are held back (the only look-ahead, and the most frames held), and
    the blink is drawn from the first of them that shows the eye open; :meth:`flush` hands back
    what is still held (a video that short)."""

    def __init__(self, max_age: int):
        self.max_age = max_age
        self.openings: deque[tuple[float, ...]] = deque(maxlen=WIDEST_OVER * max_age)
        self.donors: list[_Donor | None] = [None for _ in eyelids()]
        self.since = 0  # frames since the last frame with both eyes open
        self.blinking = False
        self.first: list[tuple[np.ndarray, FaceLandmarks | None]] | None = []

    def feed(self, frame: np.ndarray, face: FaceLandmarks | None
             ) -> list[tuple[np.ndarray, FaceLandmarks | None]]:
        if self.first is None:
            openings = _openings(face)
            if openings is not None:
                self.openings.append(openings)
            return [self._lent(frame, face, openings)]
        self.first.append((frame, face))
        return self.flush() if len(self.first) > self.max_age else []

    def flush(self) -> list[tuple[np.ndarray, FaceLandmarks | None]]:
        """The first frames, held back to look ahead, with their eyes lent."""
        first, self.first = self.first or [], None
        openings = [_openings(face) for _, face in first]
        self.openings.extend(o for o in openings if o is not None)
        # (Measured against the widest of them all.) Each eye's first open frame lends the
        # eye to the frames before it.
        for k in range(len(self.donors)):
            self.donors[k] = next((_Donor(frame, face.points) for (frame, face), o
                                   in zip(first, openings)
                                   if face is not None and o is not None
                                   and self._shown(o)[k] >= OPEN_FROM), None)
        return [self._lent(frame, face, o) for (frame, face), o in zip(first, openings)]

    def _shown(self, openings: tuple[float, ...]) -> list[float]:
        """How open a frame shows each eye, against the widest the video showed it lately."""
        widest = np.max(self.openings, axis=0)
        return [o / max(w, 1e-9) for o, w in zip(openings, widest)]

    def _lent(self, frame: np.ndarray, face: FaceLandmarks | None,
              openings: tuple[float, ...] | None) -> tuple[np.ndarray, FaceLandmarks | None]:
        """``frame`` and ``face`` with the eyes it shows shut drawn from their donors."""
        if face is None or openings is None:
            return frame, face
        shown = self._shown(openings)
        for k, share in enumerate(shown):
            if share >= OPEN_FROM:
                self.donors[k] = _Donor(frame, face.points)
        self.since = 0 if min(shown) >= OPEN_FROM else self.since + 1
        self.blinking = self.since > 0 and (self.blinking or min(shown) < SHUT_BELOW)
        if not self.blinking or self.since > self.max_age:
            return frame, face
        out, points = frame, face.points
        for k, lid in enumerate(eyelids()):
            donor = self.donors[k]
            if shown[k] < OPEN_FROM and donor is not None:
                lent = _lend(out, points, donor, lid)
                if lent is not None:
                    out, points = lent
        return (frame, face) if points is face.points else (out, replace(face, points=points))


def _openings(face: FaceLandmarks | None) -> tuple[float, ...] | None:
    """Each eye's opening in ``face``, in :func:`eyelids`' order (None: no face, or one placed
    by hand, whose eyes are covered by paint, not lent)."""
    if face is None or face.placed:
        return None
    return tuple(eye_openings(face.xy)[::-1])


def _lend(frame: np.ndarray, points: np.ndarray, donor: _Donor, lid: Eyelid
          ) -> tuple[np.ndarray, np.ndarray] | None:
    """``frame`` with ``lid``'s eye and lids drawn from ``donor``, and ``points`` with that
    eye's landmarks taken from it; None where the two frames' eyes cannot be matched."""
    # Placed by what a blink does not move: the eye's corners and its brow.
    anchors = np.r_[lid.corners, lid.brow]
    matrix, _ = cv2.estimateAffinePartial2D(donor.points[anchors, :2].astype(np.float32),
                                            points[anchors, :2].astype(np.float32))
    if matrix is None:
        return None
    eye = np.r_[lid.outline, lid.lid, lid.iris]
    moved = points.copy()
    moved[eye, :2] = donor.points[eye, :2] @ matrix[:, :2].T + matrix[:, 2]
    moved[eye, 2] = donor.points[eye, 2] * float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    width = float(np.linalg.norm(np.subtract(*points[lid.corners, :2])))
    margin = BLEND_MARGIN * width
    around = np.r_[points[np.r_[lid.outline, lid.lid], :2], moved[eye, :2]]
    box = PixelBox.around(around, frame.shape[:2], 2 * margin + 2)
    h, w = box.size
    if h < 3 or w < 3:
        return None
    local = matrix - [[0.0, 0.0, box.x0], [0.0, 0.0, box.y0]]
    drawn = cv2.warpAffine(donor.frame, local, (w, h), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    mask = np.zeros((h, w), np.float32)
    hull = cv2.convexHull(np.round(around - [box.x0, box.y0]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1.0)
    grow = max(1, int(round(margin / 2)))
    mask = cv2.dilate(mask, np.ones((2 * grow + 1,) * 2, np.uint8))
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.5, margin / 4))[..., None]
    out = frame.copy()
    patch = out[box.slices].astype(np.float32)
    out[box.slices] = np.clip(patch + mask * (drawn - patch), 0, 255).astype(np.uint8)
    return out, moved
