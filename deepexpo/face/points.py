"""Face points: a face described by a few named points placed by hand, and the 478-point mesh
fitted to them, for faces no detector finds (animals, cartoons, statues, paintings).

Points are pixels ``[x, y]`` in the image, named with left and right *as seen in the image*
(so a character is set up once, whichever way it faces). A points file is JSON: an object
mapping each name to ``[x, y]``, or a list of such objects for several faces::

    {"left_eye_outer": [102, 140], "left_eye_inner": [140, 142], ...}

API:

- :data:`REQUIRED`, :data:`OPTIONAL`, :data:`POINT_NAMES`: the names (in the JSON's order);
  :data:`POINT_HELP`: one line per name saying where it goes. :data:`KEY_POINTS`: the dozen a
  face needs, in the order a user is asked to place them; :data:`ESTIMABLE`: the rest of the
  required ones (the eyes' bottoms, the brows), which :func:`estimate_missing` puts where the
  key points say, wherever they are left out (a file, the API, the app's tool).
- :class:`FacePoints`: one face's points. ``FacePoints.from_json_object(obj)`` /
  ``.to_json_object()``; ``.check(image_size)`` (inside the image, a plausible face: eyes not
  swapped, nothing degenerate); ``.fit(image_size)`` -> the fitted mesh as
  :class:`~.landmarks.FaceLandmarks` (``placed=True``); ``FacePoints.completed(points)``: from
  the key points and any others; ``FacePoints.from_landmarks(face)``:
  points prefilled from a detected mesh.
- :func:`parse_points` (JSON text or the decoded object), :func:`load_points` (a file),
  :func:`save_points`, :func:`points_json`: several faces' points; every problem with a file is
  a one-line :class:`PointsError`. :func:`as_face_points`: from whatever a caller has (a path,
  JSON text, mappings, :class:`FacePoints`).
- :func:`fit_mesh`: the canonical face placed on the points, a similarity plus a smooth
  deformation, each eye, brow and the mouth mapped exactly onto its own points so that the mesh takes
  the character's proportions (a large anime eye, a mouth under a snout).
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..motion.rigid import fit_similarity
from .canonical import canonical_face
from .landmarks import FaceLandmarks
from .topology import TOPOLOGY

#: One line per point: where it goes. Left and right are the image's.
POINT_HELP: dict[str, str] = {
    "left_eye_outer": "outer corner of the eye on the image's left",
    "left_eye_inner": "inner corner of the eye on the image's left (towards the nose)",
    "left_eye_top": "top of the opening of the eye on the image's left (upper lid edge)",
    "left_eye_bottom": "bottom of the opening of the eye on the image's left (lower lid edge)",
    "right_eye_inner": "inner corner of the eye on the image's right (towards the nose)",
    "right_eye_outer": "outer corner of the eye on the image's right",
    "right_eye_top": "top of the opening of the eye on the image's right (upper lid edge)",
    "right_eye_bottom": "bottom of the opening of the eye on the image's right (lower lid edge)",
    "left_brow_outer": "outer end of the brow on the image's left (where a brow would be)",
    "left_brow_inner": "inner end of the brow on the image's left",
    "right_brow_inner": "inner end of the brow on the image's right",
    "right_brow_outer": "outer end of the brow on the image's right",
    "nose_tip": "tip of the nose (or snout)",
    "mouth_left": "corner of the mouth on the image's left",
    "mouth_right": "corner of the mouth on the image's right",
    "mouth_top": "top of the upper lip, mid-mouth",
    "mouth_bottom": "bottom of the lower lip, mid-mouth",
    "chin": "bottom of the chin (or jaw)",
    "face_left": "optional: the face's edge on the image's left, at eye level",
    "face_right": "optional: the face's edge on the image's right, at eye level",
    "face_top": "optional: the top of the face (forehead, below any hair or ears)",
}
OPTIONAL: tuple[str, ...] = ("face_left", "face_right", "face_top")
REQUIRED: tuple[str, ...] = tuple(name for name in POINT_HELP if name not in OPTIONAL)
POINT_NAMES: tuple[str, ...] = REQUIRED + OPTIONAL
#: The points a face cannot be placed without, in the order the app's tool asks for them (round
#: each eye, then down the face): a dozen clicks. An eye's top is among them, as no rule tells a
#: round cat's eye from an almond one from its corners.
KEY_POINTS: tuple[str, ...] = (
    "left_eye_outer", "left_eye_top", "left_eye_inner",
    "right_eye_inner", "right_eye_top", "right_eye_outer",
    "nose_tip", "mouth_left", "mouth_top", "mouth_right", "mouth_bottom", "chin")
#: The required points that may be left out: :func:`estimate_missing` puts them where
#: the key points say they are.
ESTIMABLE: tuple[str, ...] = tuple(name for name in REQUIRED if name not in KEY_POINTS)
#: An estimated eye's bottom is as far below the line through its corners as its top is above
#: (a round eye: 0.9-1.3 on the shared animals' hand-placed eyes, 1.0 on the cat's).
EYE_BOTTOM_DEPTH = 1.0
#: An estimated brow lies this far above its eye's top, in eye widths (0.2-0.5 on the shared
#: animals, 0.33 on average) ...
BROW_GAP = 0.3
#: ... its outer end this far beyond the eye's outer corner, its inner end above the inner one.
BROW_OUTER_REACH = 0.1

#: The parts mapped onto their own points (left corner or end first), so that an eye or a mouth
#: keeps its shape at its own size.
_PARTS: dict[str, tuple[str, ...]] = {
    "left_eye": ("left_eye_outer", "left_eye_inner", "left_eye_top", "left_eye_bottom"),
    "right_eye": ("right_eye_inner", "right_eye_outer", "right_eye_top", "right_eye_bottom"),
    "left_brow": ("left_brow_outer", "left_brow_inner"),
    "right_brow": ("right_brow_inner", "right_brow_outer"),
    "mouth": ("mouth_left", "mouth_right", "mouth_top", "mouth_bottom"),
}
#: The smallest eye, mouth or eye distance, in pixels, that a face may be placed with.
MIN_SIZE_PX = 2.0
#: The thinnest face: the eyes-mouth triangle's height over the eye distance.
MIN_TRIANGLE = 0.15


class PointsError(InputError):
    """A points file or set of points that cannot describe a face (one line: what and where)."""


@dataclass(frozen=True)
class _Frame:
    """The face's own axes in the image: ``across`` from the image-left eye to the
    image-right one, ``up`` from the mouth towards the eyes (perpendicular to ``across``)."""

    across: np.ndarray
    up: np.ndarray

    def x(self, p: np.ndarray) -> float:
        return float(p @ self.across)

    def y_up(self, p: np.ndarray) -> float:
        return float(p @ self.up)


@dataclass(frozen=True)
class FacePoints:
    """One face's named points, pixels ``(x, y)`` in its image (required names all present,
    optional ones where given)."""

    points: Mapping[str, tuple[float, float]]

    def __post_init__(self) -> None:
        _check_names(self.points, "", REQUIRED)

    @classmethod
    def completed(cls, points: Mapping[str, Sequence[float]],
                  what: str = "face points") -> FacePoints:
        """A face from its :data:`KEY_POINTS` and any others, those of :data:`ESTIMABLE` left
        out estimated (:func:`estimate_missing`)."""
        given = {name: (float(x), float(y)) for name, (x, y) in points.items()}
        return cls({**given, **estimate_missing(given, what)})

    def __getitem__(self, name: str) -> np.ndarray:
        return np.asarray(self.points[name], dtype=np.float64)

    @classmethod
    def from_json_object(cls, obj: object, what: str = "face points") -> FacePoints:
        """Points from a decoded JSON object ``{"name": [x, y], ...}``."""
        if not isinstance(obj, Mapping):
            raise PointsError(f"{what}: expected an object mapping point names to [x, y], "
                              f"not {_kind(obj)}")
        _check_names(obj, f"{what}: ", KEY_POINTS)
        return cls.completed({name: _xy(value, f"{what}: point {name}")
                              for name, value in obj.items()}, what)

    def to_json_object(self) -> dict[str, list[float]]:
        """``{"name": [x, y]}`` in :data:`POINT_NAMES` order, rounded to 0.1 px."""
        return {name: [round(float(v), 1) for v in self.points[name]]
                for name in POINT_NAMES if name in self.points}

    @classmethod
    def from_landmarks(cls, face: FaceLandmarks) -> FacePoints:
        """The points of a detected (or fitted) mesh: a start to correct by hand."""
        xy = face.xy
        centres = {name: xy[indices].mean(axis=0) for name, indices in _anchors().items()}
        return cls({name: (float(x), float(y)) for name, (x, y) in centres.items()})

    def check(self, image_size: tuple[int, int], what: str = "face points") -> None:
        """A one-line :class:`PointsError` unless every point is inside an image of
        ``image_size`` (height, width) and the points make a plausible face."""
        h, w = image_size
        for name in POINT_NAMES:
            if name in self.points:
                x, y = self.points[name]
                if not (0 <= x <= w and 0 <= y <= h):
                    raise PointsError(f"{what}: point {name} ({x:g}, {y:g}) is outside the "
                                      f"{w}x{h} image")
        _check_geometry(self, what)

    def fit(self, image_size: tuple[int, int], what: str = "face points") -> FaceLandmarks:
        """The 478-point mesh fitted to these points (checked first: :meth:`check`)."""
        self.check(image_size, what)
        return fit_mesh(self, image_size, what)

    def scaled(self, factor: float) -> FacePoints:
        """The points on the image resized by ``factor``."""
        return FacePoints({name: (x * factor, y * factor) for name, (x, y) in self.points.items()})

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        xy = np.array(list(self.points.values()), dtype=np.float64)
        x0, y0 = xy.min(axis=0)
        x1, y1 = xy.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)


def parse_points(data: str | bytes | object, what: str = "face points") -> list[FacePoints]:
    """Several faces' points from JSON text (or its decoded value): an object for one face,
    a list of objects for several, in the order they are given."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as e:
            raise PointsError(f"{what}: not valid JSON ({_first_line(e)})") from None
    if isinstance(data, Mapping):
        return [FacePoints.from_json_object(data, what)]
    if isinstance(data, list):
        if not data:
            raise PointsError(f"{what}: the list of faces is empty")
        return [FacePoints.from_json_object(obj, f"{what}, face {i}")
                for i, obj in enumerate(data)]
    raise PointsError(f"{what}: expected an object of named points [x, y] (or a list of them "
                      f"for several faces), not {_kind(data)}")


#: A points file larger than this is no points file.
MAX_FILE_BYTES = 1 << 20


def load_points(path: str | os.PathLike) -> list[FacePoints]:
    """The faces' points in a JSON file (:func:`parse_points`)."""
    path = Path(path)
    what = f"points file '{path.name}'"
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PointsError(f"{what} is larger than {MAX_FILE_BYTES >> 20} MiB")
        text = path.read_bytes()
    except OSError as e:
        raise PointsError(f"cannot read {what}: {e.strerror or e}") from None
    return parse_points(text, what)


#: What :func:`as_face_points` takes.
PointsLike = (str | os.PathLike | FacePoints | Mapping[str, Sequence[float]]
              | Sequence[FacePoints | Mapping[str, Sequence[float]]] | None)


def as_face_points(value: PointsLike) -> tuple[FacePoints, ...]:
    """Faces' points from what a caller has: ``None`` (none), a JSON file's path, JSON text,
    a :class:`FacePoints`, a ``{"name": [x, y]}`` mapping, or a list of those (files, text and
    mappings completed by :func:`estimate_missing`)."""
    if value is None:
        return ()
    if isinstance(value, FacePoints):
        return (value,)
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        return tuple(parse_points(value))
    if isinstance(value, (str, os.PathLike)):
        return tuple(load_points(value))
    if isinstance(value, Mapping):
        return (FacePoints.from_json_object(value),)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return tuple(face if isinstance(face, FacePoints)
                     else FacePoints.from_json_object(face, f"face points, face {i}")
                     for i, face in enumerate(value))
    raise PointsError(f"face points must be a JSON file, an object of named points or a list "
                      f"of them, not {_kind(value)}")


def points_json(faces: Sequence[FacePoints]) -> str:
    """JSON text for ``faces``: one face's object, or a list for several."""
    objects = [face.to_json_object() for face in faces]
    return json.dumps(objects[0] if len(objects) == 1 else objects, indent=1)


def save_points(path: str | os.PathLike, faces: Sequence[FacePoints]) -> Path:
    """Write ``faces`` to ``path`` (through a temporary file beside it, renamed when
    complete)."""
    from ..io.output import atomic_output

    path = Path(path)
    with atomic_output(path) as partial:
        Path(partial).write_text(points_json(faces) + "\n", encoding="utf-8")
    return path


def estimate_missing(points: Mapping[str, Sequence[float]],
                     what: str = "face points") -> dict[str, tuple[float, float]]:
    """Where the points of :data:`ESTIMABLE` missing from ``points`` go, from the
    :data:`KEY_POINTS` (all needed). Each is worked out on its own eye, in the eye's frame: along
    the line through its corners (in eye widths) and up from it. An eye's bottom lies below its
    top, as deep as the top is high (:data:`EYE_BOTTOM_DEPTH`: an animal's or a cartoon's eye is
    round); its brow runs level with that line, :data:`BROW_GAP` eye widths above the top, from
    above the inner corner to :data:`BROW_OUTER_REACH` beyond the outer one."""
    _check_names(points, f"{what}: ", KEY_POINTS)
    p = {name: np.asarray(points[name], dtype=np.float64) for name in KEY_POINTS}
    out: dict[str, tuple[float, float]] = {}
    for side in ("left", "right"):
        outer, inner, top = (p[f"{side}_eye_{n}"] for n in ("outer", "inner", "top"))
        frame = _Corners(outer, inner) if side == "left" else _Corners(inner, outer)
        top_across, top_up = frame.local(top[None])[0]
        outer_across, inward = (0.0, 1.0) if side == "left" else (1.0, -1.0)
        brow_up = top_up + BROW_GAP
        local = {
            f"{side}_eye_bottom": (top_across, -EYE_BOTTOM_DEPTH * top_up),
            f"{side}_brow_outer": (outer_across - inward * BROW_OUTER_REACH, brow_up),
            f"{side}_brow_inner": (1.0 - outer_across, brow_up),
        }
        for name, xy in local.items():
            if name in points:
                continue
            if top_up * frame.width <= MIN_SIZE_PX / 2:
                raise PointsError(f"{what}: {side}_eye_top must be above the line through "
                                  f"{side}_eye_outer and {side}_eye_inner (to estimate {name})")
            x, y = frame.image(np.array([xy]))[0]
            out[name] = (round(float(x), 1), round(float(y), 1))
    return out


def fit_mesh(points: FacePoints, image_size: tuple[int, int],
             what: str = "face points") -> FaceLandmarks:
    """The canonical face placed on ``points``. Worked out in the canonical frame (the points
    brought into it by the similarity that best maps the canonical face's onto them): the face
    is first stretched down its height to put its eyes, brows, nose, mouth and chin at the
    points' heights (a dog's long muzzle, a cartoon's nose right above its mouth); each part
    (eyes with their irises, brows, lips) is then carried exactly onto its own points
    (:func:`_part_map`), the eyes' margins rounded through their points (:func:`_round_eye`),
    and every other landmark follows by a thin-plate spline through the
    parts, the nose tip, the chin and the face's edges (those not given stay where the
    stretch puts them). Depth is the canonical face's; the similarity takes it all to the
    image. A fit that would fold the mesh over is a :class:`PointsError`."""
    canon = canonical_face()
    anchors = _anchors()
    names = [n for n in POINT_NAMES if n in points.points]
    src = {n: canon.points[anchors[n], :2].mean(axis=0) for n in names}
    required = [n for n in names if n in REQUIRED]
    scale, rot, shift = fit_similarity(np.array([src[n] for n in required]),
                                       np.array([points[n] for n in required]))
    placed = {n: (points[n] - shift) @ rot / scale for n in names}  # in the canonical frame
    shape = canon.points[:, :2]
    stretched = shape.copy()
    stretched[:, 1] = _height_map(src, placed)(shape[:, 1])
    moved = stretched.copy()
    control: list[np.ndarray] = []
    for part, members in _part_members().items():
        part_names = _PARTS[part]
        moved[members] = _part_map(np.array([src[n] for n in part_names]),
                                   np.array([placed[n] for n in part_names]))(shape[members])
        control.append(members)
    for side, lid in zip(("left", "right"), _eyelids(), strict=True):
        _round_eye(moved, lid.upper, lid.lower, *(placed[n] for n in _PARTS[f"{side}_eye"]))
    for name in ("nose_tip", "chin", *OPTIONAL):
        members = anchors[name]
        if name in placed:
            moved[members] += placed[name] - moved[members].mean(axis=0)
        control.append(members)
    control_idx = np.unique(np.concatenate(control))
    free = np.setdiff1d(np.arange(len(shape)), control_idx)
    spline = _ThinPlate(stretched[control_idx], moved[control_idx] - stretched[control_idx],
                        smoothing=1e-3)
    moved[free] = stretched[free] + spline(stretched[free])
    _check_folds(moved, what)
    xy = scale * moved @ rot.T + shift
    return FaceLandmarks(np.c_[xy, scale * canon.points[:, 2]],
                         (int(image_size[0]), int(image_size[1])), placed=True)


#: The most of the mesh's triangles that may turn over in a fit (a few under the nose do, where
#: a short nose is squeezed: 1% on the shared animals); more, and the points do not describe a
#: face.
MAX_FOLDED = 0.02


def _check_folds(shape: np.ndarray, what: str) -> None:
    canon = canonical_face()
    tri = canon.triangles

    def areas(points: np.ndarray) -> np.ndarray:
        a, b, c = (points[tri[:, k], :2] for k in range(3))
        return np.cross(b - a, c - a)

    before = areas(canon.points)
    sized = np.abs(before) > 0.1 * np.median(np.abs(before))  # not the touching lips' slivers
    folded = float(np.mean(np.sign(areas(shape)[sized]) != np.sign(before[sized])))
    if folded > MAX_FOLDED:
        raise PointsError(f"{what}: the points fold the face over ({folded:.0%} of its mesh turned "
                          f"inside out): check each point is where its name says")


def _eyelids():
    from ..motion.eyelids import eyelids

    return eyelids()


def _round_eye(xy: np.ndarray, upper: np.ndarray, lower: np.ndarray, left: np.ndarray,
               right: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> None:
    """Bend an eye's margins (in place) into quarter ellipses from its corners to its top and
    bottom points: an animal's or a cartoon's eye is round, and the almond of a person's,
    stretched to its points, would leave the round eye's sides outside the lids."""
    frame = _Corners(left, right)
    for margin, extreme in ((upper, top), (lower, bottom)):
        local = frame.local(xy[margin])
        peak = frame.local(extreme[None])[0]
        across = np.clip(local[:, 0], 0.0, 1.0)
        half = np.where(across < peak[0], peak[0], 1.0 - peak[0])
        t = np.clip((across - peak[0]) / np.maximum(half, 1e-9), -1.0, 1.0)
        local[:, 1] = peak[1] * np.sqrt(1.0 - t**2)
        xy[margin] = frame.image(local)


def _height_map(src: Mapping[str, np.ndarray], placed: Mapping[str, np.ndarray]
                ) -> Callable[[np.ndarray], np.ndarray]:
    """Piecewise-linear canonical heights -> the points' heights, through the brows, the
    eyes' corners, the nose tip, the mouth's top and bottom, the chin (and the face's top
    where given), kept increasing; beyond the ends, unstretched."""
    levels = [("face_top",), tuple(n for n in REQUIRED if "_brow_" in n),
              ("left_eye_outer", "left_eye_inner", "right_eye_inner", "right_eye_outer"),
              ("nose_tip",), ("mouth_top",), ("mouth_bottom",), ("chin",)]
    knots: list[float] = []
    heights: list[float] = []
    for level in levels:
        if all(n in placed for n in level):
            y_from = float(np.mean([src[n][1] for n in level]))
            y_to = float(np.mean([placed[n][1] for n in level]))
            if not knots or (y_from > knots[-1] + 1e-3 and y_to > heights[-1] + 1e-3):
                knots.append(y_from)
                heights.append(y_to)
    knots = [knots[0] - 10.0, *knots, knots[-1] + 10.0]
    heights = [heights[0] - 10.0, *heights, heights[-1] + 10.0]
    return lambda y: np.interp(y, knots, heights)


@lru_cache(maxsize=1)
def _anchors() -> dict[str, np.ndarray]:
    """Each point's landmarks in the 478-point mesh (the point is their mean), found on the
    canonical face. The image's left eye is the subject's right."""
    canon = canonical_face()
    p = canon.points
    right_lid, left_lid = _eyelids()
    out: dict[str, np.ndarray] = {}
    for side, lid, corners in (("left", right_lid, canon.eye_corners["right"]),
                               ("right", left_lid, canon.eye_corners["left"])):
        outer, inner = (corners[0], corners[1]) if side == "left" else (corners[1], corners[0])
        out[f"{side}_eye_outer"] = np.array([outer])
        out[f"{side}_eye_inner"] = np.array([inner])
        out[f"{side}_eye_top"] = np.array([lid.upper[np.argmin(p[lid.upper, 1])]])
        out[f"{side}_eye_bottom"] = np.array([lid.lower[np.argmax(p[lid.lower, 1])]])
    for side, brow in (("left", TOPOLOGY.right_eyebrow), ("right", TOPOLOGY.left_eyebrow)):
        by_x = brow[np.argsort(p[brow, 0])]
        ends = {"left": (by_x[:2], by_x[-2:]), "right": (by_x[-2:], by_x[:2])}[side]
        out[f"{side}_brow_outer"], out[f"{side}_brow_inner"] = ends
    out["nose_tip"] = np.array([int(np.argmin(p[:, 2]))])
    outer_lips = canon.lip_loops[0]
    corners_y = p[canon.mouth_corners, 1].mean()
    upper = outer_lips[p[outer_lips, 1] < corners_y]
    lower = outer_lips[p[outer_lips, 1] > corners_y]
    out["mouth_left"] = np.array([outer_lips[np.argmin(p[outer_lips, 0])]])
    out["mouth_right"] = np.array([outer_lips[np.argmax(p[outer_lips, 0])]])
    # The upper lip's top is its two peaks (a Cupid's bow dips between them).
    out["mouth_top"] = np.array([side[np.argmin(p[side, 1])]
                                 for side in (upper[p[upper, 0] < 0], upper[p[upper, 0] > 0])])
    out["mouth_bottom"] = np.array([lower[np.argmin(np.abs(p[lower, 0]))]])
    oval = TOPOLOGY.face_oval_loop
    out["chin"] = np.array([oval[np.argmax(p[oval, 1])]])
    out["face_left"] = np.array([oval[np.argmin(p[oval, 0])]])
    out["face_right"] = np.array([oval[np.argmax(p[oval, 0])]])
    out["face_top"] = np.array([oval[np.argmin(p[oval, 1])]])
    return {name: out[name] for name in POINT_NAMES}


@lru_cache(maxsize=1)
def _part_members() -> dict[str, np.ndarray]:
    """The landmarks each part's affine map carries."""
    canon = canonical_face()
    lips = np.r_[canon.lip_loops[0], canon.lip_loops[1]]
    return {
        "left_eye": np.r_[TOPOLOGY.right_eye, TOPOLOGY.right_iris],
        "right_eye": np.r_[TOPOLOGY.left_eye, TOPOLOGY.left_iris],
        "left_brow": TOPOLOGY.right_eyebrow,
        "right_brow": TOPOLOGY.left_eyebrow,
        "mouth": np.unique(np.r_[TOPOLOGY.lips, lips]),
    }


def _part_map(src: np.ndarray, dst: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The map that carries a part's named points ``src`` onto ``dst``, exactly: two points
    (a brow's ends) by a similarity; four (the left and right corners, the top, the bottom:
    an eye, the mouth) along the line through the corners, with what is above it stretched
    and slid to meet the top point and what is below it to meet the bottom one."""
    if len(src) == 2:
        s, rot, t = fit_similarity(src, dst)
        return lambda p: s * p @ rot.T + t
    a_frame, b_frame = _Corners(src[0], src[1]), _Corners(dst[0], dst[1])
    (a_top, a_bottom), (b_top, b_bottom) = a_frame.local(src[2:]), b_frame.local(dst[2:])

    def carry(p: np.ndarray) -> np.ndarray:
        local = a_frame.local(p)
        across, up = local[:, 0], local[:, 1]
        above = up > 0
        a_ref, b_ref = np.where(above[:, None], a_top, a_bottom), \
            np.where(above[:, None], b_top, b_bottom)
        height = np.where(np.abs(a_ref[:, 1]) > 1e-9, up / a_ref[:, 1], 0.0)
        across = across + height * (b_ref[:, 0] - a_ref[:, 0])
        return b_frame.image(np.c_[across, height * b_ref[:, 1]])

    return carry


@dataclass(frozen=True)
class _Corners:
    """Coordinates along a part's corner line: 0 at its left corner, 1 at its right one, and
    up (towards the brows) perpendicular to it, in the same unit."""

    left: np.ndarray
    right: np.ndarray

    @property
    def axes(self) -> np.ndarray:
        along = self.right - self.left
        return np.stack([along, np.array([along[1], -along[0]])])  # y points down the image

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.right - self.left))

    def local(self, p: np.ndarray) -> np.ndarray:
        return np.linalg.solve(self.axes.T, (p - self.left).T).T

    def image(self, local: np.ndarray) -> np.ndarray:
        return self.left + local @ self.axes


class _ThinPlate:
    """A 2D thin-plate spline interpolating displacements ``values`` (N, 2) at ``centres``
    (N, 2), with a little ``smoothing`` (pixels squared) for nearly coincident centres."""

    def __init__(self, centres: np.ndarray, values: np.ndarray, smoothing: float):
        n = len(centres)
        self.centres = centres
        k = _kernel(centres, centres) + smoothing * np.eye(n)
        p = np.c_[np.ones(n), centres]
        system = np.zeros((n + 3, n + 3))
        system[:n, :n], system[:n, n:], system[n:, :n] = k, p, p.T
        rhs = np.zeros((n + 3, 2))
        rhs[:n] = values
        self.coefficients = np.linalg.lstsq(system, rhs, rcond=None)[0]

    def __call__(self, points: np.ndarray) -> np.ndarray:
        n = len(self.centres)
        k = _kernel(points, self.centres)
        return k @ self.coefficients[:n] + np.c_[np.ones(len(points)), points] \
            @ self.coefficients[n:]


def _kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r2 > 0, 0.5 * r2 * np.log(np.maximum(r2, 1e-300)), 0.0)


def _check_names(points: Mapping[str, object], prefix: str, needed: Sequence[str]) -> None:
    """Unknown names, or some of ``needed`` missing: a one-line error."""
    unknown = [name for name in points if name not in POINT_HELP]
    if unknown:
        name = str(unknown[0])
        close = get_close_matches(name, POINT_NAMES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else \
            f" (the names are: {', '.join(POINT_NAMES)})"
        raise PointsError(f"{prefix}unknown point {name!r}{hint}")
    missing = [name for name in needed if name not in points]
    if missing:
        raise PointsError(f"{prefix}missing point{'s' * (len(missing) > 1)} "
                          f"{', '.join(missing)} (each face needs all of: {', '.join(KEY_POINTS)}; "
                          f"{', '.join(ESTIMABLE)} are estimated where left out)")


def _xy(value: object, what: str) -> tuple[float, float]:
    if not (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                    and math.isfinite(v) for v in value)):
        raise PointsError(f"{what} must be [x, y] in pixels, not {_short(value)}")
    return float(value[0]), float(value[1])


def _check_geometry(points: FacePoints, what: str) -> None:
    """A one-line error where the points cannot be a face (as they would fold the mesh)."""
    p = points.__getitem__

    def mid(*names: str) -> np.ndarray:
        return np.mean([p(n) for n in names], axis=0)

    left_eye = mid("left_eye_outer", "left_eye_inner", "left_eye_top", "left_eye_bottom")
    right_eye = mid("right_eye_outer", "right_eye_inner", "right_eye_top", "right_eye_bottom")
    mouth = mid("mouth_left", "mouth_right", "mouth_top", "mouth_bottom")
    across = right_eye - left_eye
    eye_distance = float(np.linalg.norm(across))
    if eye_distance < MIN_SIZE_PX:
        raise PointsError(f"{what}: the two eyes are at the same place")
    across = across / eye_distance
    up_raw = (left_eye + right_eye) / 2 - mouth
    # Seen with the face upright, the image's left eye is on the left: the eyes-to-mouth
    # triangle turns the right way round.
    turn = float(across[0] * up_raw[1] - across[1] * up_raw[0])
    height = abs(turn)
    if height < MIN_TRIANGLE * eye_distance:
        raise PointsError(f"{what}: the eyes and the mouth are (nearly) in a line, a degenerate "
                          f"face; check mouth_* and the eyes")
    if turn > 0:
        raise PointsError(f"{what}: the eyes are swapped: left_eye_* is the eye on the image's "
                          f"left, right_eye_* the one on its right")
    frame = _Frame(across, np.array([across[1], -across[0]]))
    order = [  # (lower, higher, along): lower before higher across the face, or below it
        ("left_eye_outer", "left_eye_inner", "x"), ("right_eye_inner", "right_eye_outer", "x"),
        ("left_eye_bottom", "left_eye_top", "y"), ("right_eye_bottom", "right_eye_top", "y"),
        ("left_brow_outer", "left_brow_inner", "x"), ("right_brow_inner", "right_brow_outer", "x"),
        ("mouth_left", "mouth_right", "x"), ("mouth_bottom", "mouth_top", "y"),
        ("chin", "mouth_bottom", "y"), ("mouth_bottom", "nose_tip", "y"),
        ("face_left", "left_eye_outer", "x"), ("right_eye_outer", "face_right", "x"),
    ]
    for low, high, axis in order:
        if low not in points.points or high not in points.points:
            continue
        measure = frame.x if axis == "x" else frame.y_up
        gap = measure(p(high)) - measure(p(low))
        if gap < MIN_SIZE_PX:
            relation = "left of" if axis == "x" else "below"
            raise PointsError(f"{what}: {low} must be {relation} {high} (as the face is "
                              f"turned, by at least {MIN_SIZE_PX:g} px); are they swapped?")
    eye_line = frame.y_up((left_eye + right_eye) / 2)
    if frame.y_up(p("nose_tip")) >= eye_line:
        raise PointsError(f"{what}: nose_tip must be below the eyes")
    for side in ("left", "right"):
        brow = frame.y_up(mid(f"{side}_brow_outer", f"{side}_brow_inner"))
        if brow <= frame.y_up(p(f"{side}_eye_top")):
            raise PointsError(f"{what}: the {side} brow must be above the {side} eye's top")
    if "face_top" in points.points:
        brows = max(frame.y_up(p(n)) for n in REQUIRED if "brow" in n)
        if frame.y_up(p("face_top")) <= brows:
            raise PointsError(f"{what}: face_top must be above the brows")


def _kind(value: object) -> str:
    names: dict[type, str] = {list: "a list", dict: "an object", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
