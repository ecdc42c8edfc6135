"""Face points as the app's points tool edits them: placed one click at a time, moved, undone,
for one face or several, and drawn (the guide's diagram, the photo with the fitted meshes). The
points themselves, their checks and the fit are the library's (:mod:`deepexpo.face.points`);
this is the editing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from ..face.canonical import canonical_face
from ..face.landmarks import FaceLandmarks
from ..face.points import (
    ESTIMABLE,
    KEY_POINTS,
    OPTIONAL,
    POINT_HELP,
    POINT_NAMES,
    REQUIRED,
    FacePoints,
    PointsError,
    estimate_missing,
)
from ..face.topology import TOPOLOGY
from ..io.images import fit_within

#: The side the photo is shown at to be clicked on (a small photo is enlarged, so that its
#: points can be placed to the pixel).
PREVIEW_SIDE = 768
#: A click this close to a placed point (a fraction of the photo's larger side, and at least
#: ``MIN_PICK_PX`` pixels) picks that point up, to be moved by the next click.
PICK_RADIUS = 0.02
MIN_PICK_PX = 4.0
#: Steps kept for Undo.
UNDO_STEPS = 100

XY = tuple[float, float]
_PLACED = (60, 220, 90)
_ESTIMATED = (255, 210, 0)
_OTHER_FACE = (80, 150, 255)
_TARGET = (255, 50, 50)
_MESH = (255, 255, 255, 90)
_OPTIONAL_NOTE = "optional: the face is complete without it"


@dataclass(frozen=True)
class PointsDraft:
    """The points of the face being placed, as placed so far (pixels in the photo), the point
    the next click sets (``chosen``: picked up to move, or chosen from the list; else the next
    one unplaced), and its earlier states for Undo; ``others``: the photo's other faces' points,
    in order, among which this one is number ``face`` (from 0). Once the :data:`KEY_POINTS` are
    placed, the others of :data:`REQUIRED` are estimated from them (``estimated``: those still
    where the estimate put them, which follow the key points as they move; one picked up and
    moved is placed by hand from then on)."""

    points: dict[str, XY] = field(default_factory=dict)
    chosen: str | None = None
    history: tuple[tuple[dict[str, XY], frozenset[str]], ...] = ()
    others: tuple[dict[str, XY], ...] = ()
    face: int = 0
    estimated: frozenset[str] = frozenset()

    def __hash__(self) -> int:
        # Gradio hashes a state to tell whether it changed (the editor follows the points).
        return hash((tuple(self.points.items()), self.chosen, len(self.history),
                     tuple(tuple(points.items()) for points in self.others), self.face,
                     self.estimated))

    @classmethod
    def of(cls, *faces: FacePoints) -> PointsDraft:
        """A draft holding ``faces``' points (detected or loaded), to correct, the first one
        being placed."""
        return cls.editing(tuple(_rounded(face.to_json_object()) for face in faces) or ({},), 0)

    @classmethod
    def editing(cls, faces: tuple[dict[str, XY], ...], face: int) -> PointsDraft:
        """``faces``' points, number ``face`` being placed."""
        return cls(faces[face], others=faces[:face] + faces[face + 1:], face=face)

    @property
    def faces(self) -> tuple[dict[str, XY], ...]:
        """Every face's points, in order (the one being placed among them)."""
        return self.others[:self.face] + (self.points,) + self.others[self.face:]

    def choose_face(self, face: int | None) -> PointsDraft:
        """Place face number ``face`` (from 0) next."""
        if face is None or not 0 <= face < len(self.faces) or face == self.face:
            return self
        return PointsDraft.editing(self.faces, face)

    def add_face(self) -> PointsDraft:
        """Another face to place, after the others; this one's points must be complete."""
        if not self.complete:
            raise PointsError(f"place the {len(KEY_POINTS)} points of face {self.face + 1} "
                              f"before adding another")
        return PointsDraft.editing(self.faces + ({},), len(self.faces))

    def remove_face(self) -> PointsDraft:
        """Without the face being placed (the one before it is placed next)."""
        if not self.others:
            return PointsDraft()
        return PointsDraft.editing(self.others, max(self.face - 1, 0))

    @property
    def target(self) -> str | None:
        """The point the next click places: the chosen one, else the first not yet placed."""
        if self.chosen is not None:
            return self.chosen
        return next((name for name in (*KEY_POINTS, *ESTIMABLE, *OPTIONAL)
                     if name not in self.points), None)

    @property
    def complete(self) -> bool:
        """Whether the face being placed has all its points."""
        return all(name in self.points for name in REQUIRED)

    @property
    def incomplete(self) -> bool:
        """Whether some face has points, but not all of them (it is being placed)."""
        return any(points and not all(name in points for name in REQUIRED)
                   for points in self.faces)

    def face_points(self) -> tuple[FacePoints, ...]:
        """Every face's points as the library takes them (none placed: none); a one-line
        :class:`PointsError` while some face misses some of the required ones."""
        several = len(self.faces) > 1
        placed = []
        for i, points in enumerate(self.faces):
            which = f"face {i + 1}: " if several else ""
            missing = [name for name in KEY_POINTS if name not in points]
            if missing and (points or several):
                drop = "Remove face to drop it" if several else \
                    "Clear them to let the detector find the face"
                raise PointsError(f"face points: {which}{len(missing)} of the {len(KEY_POINTS)} "
                                  f"points are not placed yet (next: {missing[0]}); place "
                                  f"them, or {drop}")
            if points:
                what = f"face points, face {i + 1}" if several else "face points"
                placed.append(FacePoints.completed(points, what))
        return tuple(placed)

    def click(self, xy: XY, image_size: tuple[int, int]) -> PointsDraft:
        """A click at ``xy`` (photo pixels, ``image_size`` (height, width)): it moves the point
        picked up, picks up a placed point near it, or places the next point."""
        xy = (round(float(xy[0]), 1), round(float(xy[1]), 1))
        if self.chosen is None:
            near = self._near(xy, max(MIN_PICK_PX, PICK_RADIUS * max(image_size)))
            if near is not None:
                return replace(self, chosen=near)
        name = self.target
        if name is None:
            return self
        points, estimated = _with_estimates({**self.points, name: xy}, self.estimated - {name})
        return replace(self, points=points, estimated=estimated, chosen=None,
                       history=(self.history + ((self.points, self.estimated),))[-UNDO_STEPS:])

    def choose(self, name: str | None) -> PointsDraft:
        """Make ``name`` the point the next click sets (None: the next one unplaced)."""
        return replace(self, chosen=name if name in POINT_HELP else None)

    def undo(self) -> PointsDraft:
        if not self.history:
            return replace(self, chosen=None)
        points, estimated = self.history[-1]
        return replace(self, points=points, estimated=estimated, chosen=None,
                       history=self.history[:-1])

    def _near(self, xy: XY, radius: float) -> str | None:
        if not self.points:
            return None
        names = list(self.points)
        d = np.hypot(*(np.array([self.points[n] for n in names]) - np.array(xy)).T)
        return names[int(d.argmin())] if d.min() <= radius else None

    def guide(self) -> str:
        """What to do next, in a line or two of Markdown."""
        placed = sum(name in self.points for name in KEY_POINTS)
        count = f"{placed} of {len(KEY_POINTS)} points placed"
        if self.estimated:
            count += f"; {len(self.estimated)} estimated, in yellow: move any that is off"
        which = f"Face {self.face + 1} of {len(self.faces)}: " if self.others else ""
        name = self.target
        if name is None:
            return (f"{which}**All points placed.** Click near a point to pick it up, then "
                    f"click where it goes. ({count})")
        verb = "Moving" if name in self.points else "Next"
        note = f" ({_OPTIONAL_NOTE})" if name in OPTIONAL else ""
        help_text = POINT_HELP[name].removeprefix("optional: ")
        return f"{which}**{verb}: `{name}`**: {help_text}{note}. Click it on the photo. ({count})"

    def diagram(self) -> np.ndarray:
        """A small drawing of a face with every point where it goes: the placed ones green
        (yellow where estimated), the next one red and ringed; those left to place grey, hollow
        where they need no click (estimated, or optional)."""
        return _diagram(tuple(_ESTIMATED if name in self.estimated else _PLACED
                              if name in self.points else None for name in POINT_NAMES),
                        self.target)

    def preview(self, photo: PreviewPhoto) -> tuple[np.ndarray, str | None]:
        """The photo with the mesh fitted to each face's points once they are complete, and
        the points (the face being placed green, the one to move ringed; the others blue); and
        the problem with the face being placed, if any."""
        scale = photo.scale
        shown = Image.fromarray(photo.shown).convert("RGBA")
        problem = None
        if all(name in self.points for name in KEY_POINTS) and not self.complete:
            try:  # the key points placed, but the rest cannot be estimated from them
                estimate_missing(self.points)
            except PointsError as exc:
                problem = str(exc)
        for i, points in enumerate(self.faces):
            if all(name in points for name in REQUIRED):
                try:
                    mesh = FacePoints(dict(points)).fit(photo.size)
                except PointsError as exc:
                    problem = str(exc) if i == self.face else problem
                else:
                    shown = _with_mesh(shown, mesh, scale)
        draw = ImageDraw.Draw(shown)
        radius = max(3, round(PREVIEW_SIDE / 160))
        for points in self.others:
            for x, y in points.values():
                _dot(draw, (x * scale, y * scale), radius, _OTHER_FACE)
        for name, (x, y) in self.points.items():
            colour = _TARGET if name == self.chosen else \
                _ESTIMATED if name in self.estimated else _PLACED
            _dot(draw, (x * scale, y * scale), radius, colour, ring=name == self.chosen)
        return np.asarray(shown.convert("RGB")), problem


@dataclass(frozen=True)
class PreviewPhoto:
    """A photo as the tool shows it, :data:`PREVIEW_SIDE` large (kept while its points are
    placed: a few MB, where the photo itself may be a hundred), and its own ``size``."""

    shown: np.ndarray
    size: tuple[int, int]  # (height, width)

    @classmethod
    def of(cls, image: np.ndarray) -> PreviewPhoto:
        size = image_size(image)
        return cls(_resized(image, preview_scale(size)), size)

    @property
    def scale(self) -> float:
        return preview_scale(self.size)


def image_size(image: np.ndarray) -> tuple[int, int]:
    """(height, width), as the points' checks take it."""
    return int(image.shape[0]), int(image.shape[1])


def preview_scale(size: tuple[int, int]) -> float:
    """Preview pixels per photo pixel, for a photo of ``size`` (height, width)."""
    return PREVIEW_SIDE / max(size)


def _resized(image: np.ndarray, scale: float) -> np.ndarray:
    if scale <= 1:
        return fit_within(image, PREVIEW_SIDE)
    h, w = image.shape[:2]
    return np.asarray(Image.fromarray(image).resize((round(w * scale), round(h * scale)),
                                                    Image.Resampling.BICUBIC))


def _with_mesh(shown: Image.Image, mesh: FaceLandmarks, scale: float) -> Image.Image:
    """The mesh's edges drawn thin and translucent over ``shown``."""
    overlay = Image.new("RGBA", shown.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    xy = mesh.xy * scale
    for a, b in TOPOLOGY.tessellation:
        draw.line([tuple(xy[a]), tuple(xy[b])], fill=_MESH, width=1)
    return Image.alpha_composite(shown, overlay)


def _dot(draw: ImageDraw.ImageDraw, xy: tuple[float, float] | np.ndarray, radius: int,
         colour: tuple[int, int, int], ring: bool = False, hollow: bool = False) -> None:
    x, y = xy
    draw.ellipse([x - radius, y - radius, x + radius, y + radius],
                 fill=None if hollow else colour, outline=colour if hollow else (0, 0, 0),
                 width=1)
    if ring:
        r = radius * 3
        draw.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=2)


_DIAGRAM_SIZE = (220, 260)  # width, height


@lru_cache(maxsize=1)
def _diagram_face() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The canonical face's outline and its points, in the diagram's pixels."""
    xy = canonical_face().points[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    w, h = _DIAGRAM_SIZE
    scale = min((w - 30) / (hi - lo)[0], (h - 30) / (hi - lo)[1])
    xy = (xy - (lo + hi) / 2) * scale + np.array([w / 2, h / 2])
    size = (h, w)
    anchors = FacePoints.from_landmarks(FaceLandmarks(np.c_[xy, np.zeros(len(xy))], size))
    return xy, {name: anchors[name] for name in POINT_NAMES if name in anchors.points}


@lru_cache(maxsize=64)
def _diagram(placed: tuple[tuple[int, int, int] | None, ...], target: str | None) -> np.ndarray:
    """The diagram with each point in its colour (``placed``, in :data:`POINT_NAMES` order;
    None: not placed yet)."""
    xy, anchors = _diagram_face()
    out = Image.new("RGB", _DIAGRAM_SIZE, (246, 246, 246))
    draw = ImageDraw.Draw(out)
    outline = (150, 150, 150)
    for loop in (TOPOLOGY.face_oval_loop, TOPOLOGY.left_eye_loop, TOPOLOGY.right_eye_loop,
                 *TOPOLOGY.lip_loops(np.c_[xy, np.zeros(len(xy))])):
        draw.line([tuple(p) for p in xy[np.r_[loop, loop[:1]]]], fill=outline, width=2)
    for side in ("left", "right"):
        draw.line([tuple(anchors[f"{side}_brow_outer"]), tuple(anchors[f"{side}_brow_inner"])],
                  fill=outline, width=3)
    for name, colour in zip(POINT_NAMES, placed, strict=True):
        if name in anchors and name != target:
            _dot(draw, anchors[name], 3, colour or (120, 120, 120),
                 hollow=colour is None and name not in KEY_POINTS)
    if target in anchors:
        _dot(draw, anchors[target], 4, _TARGET, ring=True)
    return np.asarray(out)


def _with_estimates(points: dict[str, XY], estimated: frozenset[str]
                    ) -> tuple[dict[str, XY], frozenset[str]]:
    """``points`` with the :data:`ESTIMABLE` ones not placed by hand (those not given, or in
    ``estimated``) estimated afresh once the key points are all placed; and which those are.
    Key points that give no estimate (an eye's top below its corners) leave them out (the
    preview says why)."""
    placed = {name: xy for name, xy in points.items() if name not in estimated}
    if not all(name in placed for name in KEY_POINTS):
        return placed, frozenset()
    try:
        estimates = estimate_missing(placed)
    except PointsError:
        return placed, frozenset()
    return {**placed, **estimates}, frozenset(estimates)


def _rounded(points: dict[str, list[float]]) -> dict[str, XY]:
    return {name: (float(x), float(y)) for name, (x, y) in points.items()}
