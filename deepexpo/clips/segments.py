"""Each person in a raw video followed from frame to frame, cut into segments that each get
one steady crop box, as FOMM's and DeepExpr's ``crop-video`` preprocessing does.

A face is followed by the overlap of its box with the person's box in the frames just before;
a person's segment ends where the face is lost, where the shot changes (a scene cut, found as a
jump in the frames' colour histograms), or where the face has drifted away from where the
segment began (so one box can hold the whole segment without the face shrinking in it). Each
frame's crop is the neural engine's (:class:`~deepexpo.face.crop.FaceCrop`); a segment's box is
the square that holds every one of them at their median size, clamped to the frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..face.crop import FaceCrop
from ..face.landmarks import FaceBox

#: Bhattacharyya distance between consecutive frames' HSV histograms above which the shot has
#: changed. On the shared samples consecutive frames stay under 0.13; the first frame of one
#: video against the last of another is 0.65 and up.
CUT_DISTANCE = 0.4
#: A face overlapping (IoU) the person's last face box by this much is the same person.
FOLLOW_OVERLAP = 0.3
#: Frames a person may go unseen (a missed detection, a hand across the face) and still be
#: followed in the same segment.
MAX_GAP = 2
#: A face whose crop overlaps its segment's first crop by less than this has drifted: a new
#: segment starts, as FOMM's ``iou_with_initial`` does.
DRIFT_OVERLAP = 0.5


class SceneCuts:
    """Called on each frame in turn: whether a new shot starts there."""

    def __init__(self, threshold: float = CUT_DISTANCE):
        self.threshold = threshold
        self._previous: np.ndarray | None = None

    def __call__(self, frame: np.ndarray) -> bool:
        small = cv2.resize(frame, (128, 128), interpolation=cv2.INTER_AREA)
        hist = cv2.calcHist([cv2.cvtColor(small, cv2.COLOR_RGB2HSV)], [0, 1, 2], None,
                            [16, 4, 4], [0, 180, 0, 256, 0, 256])
        hist = cv2.normalize(hist, hist).flatten()
        previous, self._previous = self._previous, hist
        return previous is not None and cv2.compareHist(
            previous, hist, cv2.HISTCMP_BHATTACHARYYA) > self.threshold


class PictureArea:
    """Fed each frame of a shot (:meth:`add`), the part of a region that is picture
    (:meth:`box`): the black bars of a letterboxed or pillarboxed video (or of one side of a
    composited frame), rows or columns dark in every frame, left out, so no clip is trained
    on them."""

    #: Brightest value (of any channel) a bar's pixel reaches, compression noise included.
    DARK = 24
    #: A row (column) is picture where this much of it is not dark: a bar's few noisy
    #: pixels, or the edge of the next picture in a composite, do not make it picture.
    PICTURE = 0.1

    def __init__(self) -> None:
        self._brightest: np.ndarray | None = None  # each pixel's brightest value so far

    def add(self, frame: np.ndarray) -> None:
        brightest = frame.max(axis=2)
        self._brightest = brightest if self._brightest is None else np.maximum(
            self._brightest, brightest)

    def box(self, region: tuple[int, int, int, int] | None = None) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)``: the picture around ``region`` (same form; by default the
        whole frame): the rows not dark throughout in the region's columns, and the columns not
        dark throughout in its rows (see :attr:`PICTURE`). The whole frame where it is dark
        throughout."""
        assert self._brightest is not None, "no frame added"
        h, w = self._brightest.shape
        x0, y0, x1, y1 = region or (0, 0, w, h)
        seen = self._brightest > self.DARK
        rows = np.flatnonzero(seen[:, max(x0, 0):max(x1, 1)].mean(axis=1) > self.PICTURE)
        cols = np.flatnonzero(seen[max(y0, 0):max(y1, 1)].mean(axis=0) > self.PICTURE)
        if not len(rows) or not len(cols):
            return 0, 0, w, h
        return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def upright_square(crop: FaceCrop) -> FaceBox:
    """The axis-aligned square of ``crop``'s centre and side (its tilt left out)."""
    (cx, cy), half = crop.centre, crop.side / 2
    return FaceBox(cx - half, cy - half, cx + half, cy + half, 1.0)


@dataclass(frozen=True)
class Sighting:
    """One face in one frame: its landmarks' box, to follow it by, and the neural engine's
    crop around it. (Not the landmarks: a long video's would not fit in memory.)"""

    frame: int
    face: FaceBox
    crop: FaceCrop


@dataclass
class Segment:
    """One person in consecutive frames of one shot: ``person`` counts from 0 in order of
    appearance in the video, ``index`` counts that person's segments."""

    person: int
    index: int
    sightings: list[Sighting] = field(default_factory=list)

    @property
    def first(self) -> int:
        return self.sightings[0].frame

    @property
    def last(self) -> int:
        return self.sightings[-1].frame

    @property
    def frames(self) -> int:
        return self.last - self.first + 1

    def box(self, picture: PictureArea) -> tuple[int, int, int, int]:
        """The segment's steady box ``(x0, y0, x1, y1)`` in whole pixels: the square holding
        every frame's crop at their median side, no larger than the shot's picture around it
        and moved inside it."""
        centres = np.array([s.crop.centre for s in self.sightings])
        side = float(np.median([s.crop.side for s in self.sightings]))
        lo, hi = centres.min(axis=0) - side / 2, centres.max(axis=0) + side / 2
        centre, whole = (lo + hi) / 2, round(float((hi - lo).max()))
        square = np.r_[np.floor(centre - whole / 2), np.ceil(centre + whole / 2)].astype(int)
        ax0, ay0, ax1, ay1 = picture.box(tuple(square))
        whole = min(whole, ax1 - ax0, ay1 - ay0)
        x0 = int(np.clip(round(centre[0] - whole / 2), ax0, ax1 - whole))
        y0 = int(np.clip(round(centre[1] - whole / 2), ay0, ay1 - whole))
        return x0, y0, x0 + whole, y0 + whole


def box_crop(box: tuple[int, int, int, int]) -> FaceCrop:
    """The upright :class:`FaceCrop` of a box, so clips are cut as the engine cuts its
    crops."""
    x0, y0, x1, y1 = box
    return FaceCrop(np.array([(x0 + x1) / 2, (y0 + y1) / 2]), np.array([1.0, 0.0]),
                    np.array([0.0, 1.0]), float(x1 - x0))


@dataclass
class _Person:
    number: int
    segment: Segment | None  # None just after a scene cut: the next sighting starts one
    last: Sighting
    segments: int = 0


class PersonTracker:
    """Fed each frame's faces in order (:meth:`add`), gives every person's segments
    (:meth:`finish`)."""

    def __init__(self) -> None:
        self._active: list[_Person] = []
        self._done: list[Segment] = []
        self._people = 0

    def add(self, frame: int, faces: list[Sighting], cut: bool = False) -> None:
        if cut:
            for person in self._active:
                self._close(person)
        pairs = sorted(((person.last.face.iou(face.face), p, f)
                        for p, person in enumerate(self._active)
                        for f, face in enumerate(faces)), reverse=True)
        matched_people: set[int] = set()
        matched_faces: set[int] = set()
        for overlap, p, f in pairs:
            if overlap < FOLLOW_OVERLAP:
                break
            if p in matched_people or f in matched_faces:
                continue
            matched_people.add(p)
            matched_faces.add(f)
            self._extend(self._active[p], faces[f])
        for p, person in enumerate(self._active):
            if p not in matched_people and frame - person.last.frame > MAX_GAP:
                self._close(person)
        self._active = [person for person in self._active if person.segment is not None
                        or person.last.frame >= frame - MAX_GAP]
        for f, face in enumerate(faces):
            if f not in matched_faces:
                person = _Person(self._people, None, face)
                self._people += 1
                self._extend(person, face)
                self._active.append(person)

    def _extend(self, person: _Person, face: Sighting) -> None:
        segment = person.segment
        if segment is not None and upright_square(face.crop).iou(
                upright_square(segment.sightings[0].crop)) < DRIFT_OVERLAP:
            self._close(person)
            segment = None
        if segment is None:
            segment = person.segment = Segment(person.number, person.segments)
            person.segments += 1
        segment.sightings.append(face)
        person.last = face

    def _close(self, person: _Person) -> None:
        if person.segment is not None:
            self._done.append(person.segment)
            person.segment = None

    def finish(self) -> list[Segment]:
        """Every segment, by its first frame."""
        for person in self._active:
            self._close(person)
        self._active = []
        return sorted(self._done, key=lambda s: (s.first, s.person))
