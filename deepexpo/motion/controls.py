"""Hand-set dynamic semantics: named expression controls, emotion presets and their blending.

Every expression control is a displacement of the landmarks in the canonical frame (units of the
outer-eye-corner distance), defined on the features (lips, eyelids, brows, irises) and spread
smoothly over the surrounding skin; the head controls rotate the pose. Controls add up linearly
and vary continuously, and the result is an ordinary :class:`FaceMotion`, so every engine renders
an edit the way it renders a driver's motion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from typing import Any

import numpy as np

from ..checks import check_number
from ..errors import InputError
from ..face.canonical import canonical_face
from ..face.landmarks import FaceLandmarks
from ..face.topology import TOPOLOGY
from .compose import lips_apart
from .extract import extract_motion
from .eyelids import Eyelid, eyelids
from .rigid import euler_to_rotation
from .state import FaceMotion, HeadPose


def _control(help: str, low: float = -1.0, high: float = 1.0) -> Any:
    return field(default=0.0, metadata={"help": help, "range": (low, high)})


#: How far a control may go beyond its slider (an exaggeration): expression controls to +-5
#: (an emotion preset at intensity 2 with a control on top stays inside), head rotation to
#: +-90 degrees (a head turned further faces away).
_EXPRESSION_LIMIT, _ROTATION_LIMIT = 5.0, 90.0


@dataclass(frozen=True)
class ExpressionControls:
    """Named controls; 0 is the face as it is. Expression controls are about -1..1 (1: a full
    expression); head controls are degrees, about the camera's axes."""

    smile: float = _control("mouth corners up and out (negative: down)")
    blink: float = _control("both eyes: 1 closed, negative opens them wider")
    wink: float = _control("the subject's left eye (image right): 1 closed", 0.0)
    squint: float = _control("lower lids raised, narrowing both eyes from below", 0.0)
    eyebrow_raise: float = _control("brows up (negative: down)")
    eyebrow_inner_raise: float = _control("inner ends of the brows up, the outer ends staying: "
                                          "worried, oblique brows", 0.0)
    eyebrow_frown: float = _control("brows drawn together and down at their inner ends", 0.0)
    aaa: float = _control("mouth opened by dropping the jaw", 0.0)
    eee: float = _control("lips stretched wide, slightly parted", 0.0)
    woo: float = _control("lips pursed, round and forward", 0.0)
    pupil_x: float = _control("gaze towards the image's right (negative: left)")
    pupil_y: float = _control("gaze down (negative: up)")
    pitch: float = _control("head nods down", -30.0, 30.0)
    yaw: float = _control("head turns towards the image's left (the subject's right; "
                          "negative: the image's right)", -30.0, 30.0)
    roll: float = _control("head tilts clockwise in the image", -30.0, 30.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            limit = _ROTATION_LIMIT if f.metadata["range"][1] > 1 else _EXPRESSION_LIMIT
            check_number(f.name.replace("_", " "), getattr(self, f.name), -limit, limit)

    def __add__(self, other: ExpressionControls) -> ExpressionControls:
        return ExpressionControls(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                                     for f in fields(self)})

    def __mul__(self, k: float) -> ExpressionControls:
        return ExpressionControls(**{f.name: k * getattr(self, f.name) for f in fields(self)})

    __rmul__ = __mul__

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def describe(cls, name: str) -> str:
        return cls._field(name).metadata["help"]

    @classmethod
    def slider_range(cls, name: str) -> tuple[float, float]:
        """The range a slider offers (values outside it are allowed, and exaggerate)."""
        return cls._field(name).metadata["range"]

    @classmethod
    def _field(cls, name: str) -> Any:
        return next(f for f in fields(cls) if f.name == name)


#: Seven basic emotions (as in NED) as combinations of the controls, at intensity 1. Anger and
#: disgust narrow the eyes from below (a squint: FACS's lid tightener, the cheeks' push), not
#: under a drooping upper lid: narrowed by closing them (``blink`` 0.3, 0.35) with the lowered
#: brows, they showed 0.13-0.39 of the irises (dlib's eye contours, read on pixels), a sleepy
#: look, not a glare; 0.93-1.0 now. Sad and fearful raise the brows' inner ends (FACS's AU1:
#: worried, oblique brows); sad lost its whole-brow raise (0.25), which lifted the outer ends.
EMOTIONS: dict[str, ExpressionControls] = {
    "neutral": ExpressionControls(),
    "happy": ExpressionControls(smile=1.0, eee=0.15, eyebrow_raise=0.1),
    "sad": ExpressionControls(smile=-0.8, eyebrow_frown=0.35, eyebrow_inner_raise=1.0, blink=0.25),
    "surprised": ExpressionControls(eyebrow_raise=1.0, blink=-0.4, aaa=0.7, woo=0.2),
    "fearful": ExpressionControls(eyebrow_raise=0.7, eyebrow_inner_raise=0.8, eyebrow_frown=0.5,
                                  blink=-0.4, eee=0.6, aaa=0.25),
    "angry": ExpressionControls(eyebrow_frown=1.0, eyebrow_raise=-0.3, squint=0.8, smile=-0.3,
                                eee=0.2),
    "disgusted": ExpressionControls(eyebrow_frown=0.6, squint=0.8, smile=-0.5, eee=0.3),
}

#: How far the jaw drops, in canonical units, at ``aaa=1``.
JAW_DROP = 0.2
#: How far a full smile raises the cheeks (canonical units, at their apex below each eye) and
#: the lower lids (each point by this fraction of the eye's height there; a full squint, the
#: lower lids alone): the eyes narrow from below, as in a Duchenne smile, rather than under a
#: drooping upper lid, and keep their shape.
#: (Lifted by a fraction of the eye's mean height all along, the lid rose a fifth of the eye's
#: height in its middle and nine tenths of it by the inner corner: the ends squeezed shut, the
#: corners drawn up with them, and MediaPipe read the lid's middle on s12 and s1 risen above
#: them by 0.13-0.15 of the eye's height there; 0.16-0.19 now. The warp also drew the upper
#: lid 0.2-1.6 px lower, the narrowing read as a closing eye; kept where it is, MediaPipe,
#: which reads an eye's margins together, read s1's left lower lid 0.145 risen at 0.35 with
#: its pixels as they were: the lift takes the share of the narrowing the droop gave.)
CHEEK_RAISE = 0.045
LOWER_LID_LIFT = 0.37


@dataclass(frozen=True)
class ExpressionEdit:
    """An edit of a face's dynamic semantics.

    ``keep_source`` is how much of the face's own expression stays under the controls (1: the
    controls add to it, 0: they start from the person's neutral face), as AdvancedLivePortrait's
    ``src_ratio``. ``keep_mouth`` keeps the face's own lip and jaw motion and ignores ``aaa``:
    editing a talking face's emotion without touching its speech. ``offset`` is an expression
    change in the canonical frame added on top (another face's, see :func:`without_opening`).
    """

    controls: ExpressionControls = field(default_factory=ExpressionControls)
    keep_source: float = 1.0
    keep_mouth: bool = False
    offset: np.ndarray | None = field(default=None, compare=False)  # (478, 3)

    def __post_init__(self) -> None:
        check_number("keep_source", self.keep_source, 0.0, 1.0)

    @classmethod
    def emotion(cls, name: str, intensity: float = 1.0, keep_source: float = 0.0,
                extra: ExpressionControls | None = None) -> ExpressionEdit:
        """An emotion preset at ``intensity`` (0 leaves the face as it is, whatever
        ``keep_source`` is: the source's expression fades out as the emotion fades in)."""
        if name not in EMOTIONS:
            raise InputError(f"emotion must be one of {', '.join(EMOTIONS)}, not {name!r}")
        check_number("intensity", intensity, 0.0, 2.0)
        keep = 1.0 - min(intensity, 1.0) * (1.0 - keep_source)
        controls = intensity * EMOTIONS[name] + (extra or ExpressionControls())
        return cls(controls, keep_source=keep)

    @classmethod
    def from_settings(cls, controls: ExpressionControls, emotion: str | None = None,
                      intensity: float = 1.0, keep_source: float | None = None) -> ExpressionEdit:
        """The edit a user's settings ask for. ``keep_source`` defaults to 0 with an emotion
        (it replaces the source's own expression, as NED) and to 1 without (the controls add
        to it, as AdvancedLivePortrait)."""
        if emotion is None:
            return cls(controls, 1.0 if keep_source is None else keep_source)
        return cls.emotion(emotion, intensity, 0.0 if keep_source is None else keep_source,
                           extra=controls)

    def speech_preserving(self) -> ExpressionEdit:
        return replace(self, keep_mouth=True)

    def apply(self, motion: FaceMotion) -> FaceMotion:
        """``motion`` with its expression blended and the controls applied."""
        c = self.controls
        keep = np.maximum.reduce([np.full(len(motion.canonical), self.keep_source),
                                  own_eyes(motion.canonical), own_brows()])
        if self.keep_mouth:
            c = replace(c, aaa=0.0)
            # (And its blinks, as its speech: a video's blink is its own, and a warp opening
            # an eye shut in a frame drew its lash line as a row of dark spikes.)
            masks = canonical_face().feature_masks
            keep = np.maximum(keep, np.maximum(masks["lips"], masks["eyes"]))
        kept = keep[:, None] * motion.expression
        if not self.keep_mouth:
            lips = canonical_face().feature_masks["lips"]
            kept += ((1.0 - keep) * lips)[:, None] * own_lips(motion.expression, c.smile)
        # A raised lower lid (a smile's, a squint's: higher, on the whole, than the canonical
        # eye's) is expression, not the eye's own: it goes with the rest of the expression (an
        # emotion lowers it again), on an eye open enough to be its own (lowered under a
        # kept wink or squint, it opened the shut eye, whose lash line a warp drew as spikes).
        for lid in eyelids():
            raised = min(float(motion.expression[lid.lower, 1].mean()), 0.0)
            opened = lid.shown(motion.canonical, OWN_EYE_OPEN)
            kept[lid.lower, 1] -= (keep[lid.lower] - self.keep_source) * raised * opened
        expression = kept + expression_offset(motion.canonical, c, motion.own_measure)
        if self.offset is not None:
            expression = expression + motion.own_measure(self.offset)
        identity = motion.canonical - motion.expression
        turn = euler_to_rotation(c.pitch, c.yaw, c.roll)
        pose = HeadPose(turn @ motion.pose.rotation, motion.pose.translation, motion.pose.scale)
        return lips_apart(FaceMotion(pose, identity + expression, expression, motion.image_size,
                                     motion.proportions), motion)


def own_eyes(shape: np.ndarray) -> np.ndarray:
    """(478,) how much of an open eye's expression (its lids' gap and shape, the gaze) an edit
    keeps whatever ``keep_source`` is (a raised lower lid apart, :meth:`ExpressionEdit.apply`):
    how wide an eye opens is mostly who someone is, and an
    emotion that made a wide eye the canonical face's would lower its upper lid (a sleepy
    look). An eye nearly shut (a blink caught in the photo) is no one's own: it is opened to
    the neutral face's, fully below :data:`OWN_EYE_OPEN` of the canonical eye's gap."""
    canon = canonical_face()
    mask = canon.feature_masks["eyes"]
    out = np.zeros(len(shape))
    for lid in eyelids():
        side = np.sign(canon.points[:, 0]) == np.sign(canon.points[lid.corners, 0].mean())
        out[side] = mask[side] * lid.shown(shape, OWN_EYE_OPEN)
    return out


def own_brows() -> np.ndarray:
    """(478,) how much of the brows' expression (and the skin's round them) an edit keeps
    whatever ``keep_source`` is: where a brow sits above its eye and how it arches are mostly
    who someone is, and an emotion moves them from there (its raise, its frown). Measured
    against the canonical face's, s42's brows sit 0.1 of the eyes' distance higher; an emotion
    that replaced that lowered them onto her eyes (a heavy, sleepy look under neutral and
    happy) and cancelled surprised's raise. (A photo's raised or knitted brows stay as they
    are under neutral: one picture cannot tell them from the person's own.)"""
    canon = canonical_face()
    return canon.feature_masks["brows"] * (1.0 - canon.feature_masks["eyes"])


#: An emotion moves the mouth's corners at most this many full smiles (``smile=1``) from where
#: the face has them: s10's and s42's resting corners read as a full smile's drop below the
#: canonical face's, and happy raised them by two smiles, pulling each corner up into a hook
#: (on the turned painting s10 a red streak up the far cheek, the lip's highlight stretched).
MAX_RISE_CHANGE = 1.25


def own_lips(expression: np.ndarray, smile: float = 0.0) -> np.ndarray:
    """The part of a face's expression (478, 3) around its mouth that an edit keeps whatever
    ``keep_source`` is: all but how far the mouth's corners rise above its middle (a smile's,
    a frown's: an emotion sets that, asking for ``smile``, within :data:`MAX_RISE_CHANGE` of
    the face's own and never against the emotion's way). The lips' width, thickness and shape
    are the person's, measured against the canonical face's (an emotion that replaced them
    gave s42's small mouth the canonical lips, a third wider: a thick red bow pasted on), and
    how far they part is kept too: a warp closes lips parted over teeth only by squeezing the
    teeth into a jagged line between them."""
    g = _geometry()
    lips = TOPOLOGY.lips
    # The rise, fitted apart from a shift of the whole mouth and its opening (the jaw's).
    basis = np.c_[np.ones(len(lips)), g.smile[:, 1], g.jaw[lips]]
    rise = np.linalg.lstsq(basis, expression[lips, 1], rcond=None)[0][1]
    reached = np.clip(smile, rise - MAX_RISE_CHANGE, rise + MAX_RISE_CHANGE)
    # An emotion moves the corners its own way only: sad (smile -0.8) raised s42's corners,
    # which rest lower than that, and happy would lower a broader grin than its own.
    if smile < 0:
        reached = min(reached, rise)
    elif smile > 0:
        reached = max(reached, rise)
    return expression - (rise + smile - reached) * g.rise


#: The eye's gap, as a fraction of the canonical eye's, below which an edit treats it as shut
#: (its own gap not kept) and above which as its own (kept whole).
OWN_EYE_OPEN = (0.45, 0.7)


def without_opening(delta: np.ndarray) -> np.ndarray:
    """An expression change (478, 3) with its mouth opening taken out: the jaw-drop component
    that widens the gap between the inner lips is removed, so corners, lip shape, eyes and
    brows still change but the lips keep saying what they said."""
    canon = canonical_face()
    gap = (delta[canon.inner_lip_lower, 1] - delta[canon.inner_lip_upper, 1]).mean()
    out = delta.copy()
    out[:, 1] -= gap * _geometry().jaw
    return out


def reference_offsets(faces: Iterable[FaceLandmarks | None]) -> list[np.ndarray]:
    """Per frame of a reference clip, its expression change from its first face, without the
    mouth opening (:func:`without_opening`); a frame without a face repeats the last. Empty
    when no frame has a face. These are :class:`ExpressionEdit` offsets: every engine's edit
    takes them."""
    first, offsets = None, []
    for face in faces:
        if face is not None:
            expression = extract_motion(face).expression
            first = expression if first is None else first
            offsets.append(without_opening(expression - first))
        elif offsets:
            offsets.append(offsets[-1])
    return offsets


def apply_controls(motion: FaceMotion, controls: ExpressionControls) -> FaceMotion:
    """``motion`` with ``controls`` added to its own expression."""
    return ExpressionEdit(controls).apply(motion)


def expression_offset(shape: np.ndarray, c: ExpressionControls,
                      own_measure: Callable[[np.ndarray], np.ndarray] = lambda e: e
                      ) -> np.ndarray:
    """The landmark displacement (478, 3) of the expression controls on a face whose
    canonical-frame landmarks are ``shape``. Eyelids close over the face's own lid gap; the
    rest, set in the canonical face's measure, is taken to the face's by ``own_measure``
    (:meth:`FaceMotion.own_measure`)."""
    g = _geometry()
    features = np.zeros_like(shape)
    features[TOPOLOGY.lips] += (c.smile * g.smile + c.eee * g.eee + c.woo * g.woo)
    features[TOPOLOGY.brows] += (c.eyebrow_raise * g.brow_raise + c.eyebrow_inner_raise * g.brow_inner_raise
                                 + c.eyebrow_frown * g.brow_frown)
    features += c.eyebrow_raise * g.lid_raise + c.eyebrow_inner_raise * g.lid_inner_raise
    offset: np.ndarray = canonical_face().spread @ features
    # A smile (a Duchenne one) raises the cheeks, which push the lower lids up.
    offset += max(c.smile, 0.0) * g.cheek_raise
    offset[g.irises, 0] += 0.06 * c.pupil_x
    offset[g.irises, 1] += 0.035 * c.pupil_y
    offset[:, 1] += c.aaa * JAW_DROP * g.jaw
    offset = own_measure(offset)
    # Eyelids and irises move on their own: spread over the skin, a closing lid would drag
    # the skin above it along instead of sliding over the eye.
    for eye, closure in ((g.right_eye, c.blink), (g.left_eye, c.blink + c.wink)):
        offset += eye.closing(shape, closure)
        offset[eye.lower, 1] -= (max(c.smile, 0.0) + c.squint) * LOWER_LID_LIFT \
            * eye.heights(shape)
    return offset


@dataclass(frozen=True)
class _Geometry:
    """Per-landmark unit displacements of the constant controls, from the canonical face."""

    smile: np.ndarray  # (len(LIPS), 3)
    eee: np.ndarray
    woo: np.ndarray
    brow_raise: np.ndarray  # (len(BROWS), 3)
    brow_inner_raise: np.ndarray
    brow_frown: np.ndarray
    lid_raise: np.ndarray  # (478, 3) upper lids follow raised brows a little
    lid_inner_raise: np.ndarray
    right_eye: Eyelid
    left_eye: Eyelid
    irises: np.ndarray
    jaw: np.ndarray  # (478,) how far each point follows a dropping jaw
    cheek_raise: np.ndarray  # (478, 3) a full smile's cheeks
    rise: np.ndarray  # (478, 3) a full smile's corners rising above the lips' middle


@lru_cache(maxsize=1)
def _geometry() -> _Geometry:
    canon = canonical_face()
    p = canon.points
    corners = p[canon.mouth_corners]
    centre_x, half_width = corners[:, 0].mean(), np.ptp(corners[:, 0]) / 2
    lips = p[TOPOLOGY.lips]
    t = (lips[:, 0] - centre_x) / half_width  # -1 at one corner, +1 at the other
    lower = np.isin(TOPOLOGY.lips, canon.lower_lip)
    middle = np.clip(1.0 - t**2, 0.0, 1.0)  # 1 mid-mouth, 0 at the corners

    smile = np.zeros_like(lips)
    smile[:, 0] = 0.05 * t * np.abs(t)
    smile[:, 1] = -0.06 * t**2
    eee = np.zeros_like(lips)
    eee[:, 0] = 0.07 * t
    eee[:, 1] = np.where(lower, 0.03, -0.01) * middle
    woo = np.zeros_like(lips)
    woo[:, 0] = -0.35 * (lips[:, 0] - centre_x)
    woo[:, 1] = np.where(lower, 0.03, -0.015) * middle
    woo[:, 2] = -0.05

    brows = p[TOPOLOGY.brows]
    ax = np.abs(brows[:, 0])

    def towards_inner(x: np.ndarray) -> np.ndarray:  # 1 at the brows' inner ends, 0 at the outer
        return np.clip(1.0 - (np.abs(x) - ax.min()) / np.ptp(ax), 0.0, 1.0)

    inner = towards_inner(brows[:, 0])

    brow_raise = np.zeros_like(brows)
    brow_raise[:, 1] = -0.07
    # FACS's inner brow raiser (AU1, the frontalis's middle part, which worry, sadness and
    # fear share; eyebrow_raise is AU1+2, the whole brow, and eyebrow_frown AU4): the inner
    # third lifted most, the outer end not at all, so the brow turns oblique. A control of
    # its own, as neither surprise's raise nor anger's frown can take that shape: the frown
    # pulls the inner ends down about as far as a raise lifts them, and sad and fearful, made
    # of the two, left the brows level or lower inside than out (dlib on s42, s12, s1, s7
    # and the astronaut, the inner ends' rise less the outer ends': sad -0.012 to +0.004 of
    # the outer eye corners' distance, fearful -0.022 to +0.039; +0.028 to +0.067 and +0.020
    # to +0.078 with the inner raise).
    brow_inner_raise = brow_raise * inner[:, None] ** 2
    brow_frown = np.zeros_like(brows)
    brow_frown[:, 0] = -0.06 * np.sign(brows[:, 0]) * inner
    brow_frown[:, 1] = 0.05 * (0.4 + 0.6 * inner)
    # The upper lids follow the brow above them a little (a sixth of its rise): the whole lid
    # a raised brow's, the lid's inner part an inner raise's (sadness's slanted upper lid).
    # (Sad, its whole-brow raise swapped for an inner one, narrowed the astronaut's eyes to
    # 0.24 of dlib's eye aspect ratio with the lids left behind, 0.29 before; 0.29 with them.)
    upper = np.r_[tuple(eye.upper for eye in eyelids())]
    lid_raise = np.zeros_like(p)
    lid_raise[upper, 1] = -0.012
    lid_inner_raise = lid_raise * towards_inner(p[:, 0])[:, None] ** 2

    return _Geometry(
        smile, eee, woo, brow_raise, brow_inner_raise, brow_frown, lid_raise, lid_inner_raise,
        *eyelids(),
        np.r_[TOPOLOGY.right_iris, TOPOLOGY.left_iris],
        canon.jaw_drop,
        _cheek_raise(p),
        canon.spread[:, TOPOLOGY.lips] @ (smile * [0.0, 1.0, 0.0]),
    )


def _cheek_raise(p: np.ndarray) -> np.ndarray:
    """Each cheek's apex (below the eye's outer half) up by :data:`CHEEK_RAISE`, fading over
    the cheek: nothing at the lower lids (they move on their own), the nose or the mouth."""
    apex = np.array([0.4, -0.12])
    out = np.zeros_like(p)
    for side in (-1.0, 1.0):
        d2 = ((p[:, 0] - side * apex[0]) ** 2 + (p[:, 1] - apex[1]) ** 2) / 0.13**2
        out[:, 1] -= CHEEK_RAISE * np.exp(-0.5 * d2)
    out[np.r_[TOPOLOGY.eyes, TOPOLOGY.lips, TOPOLOGY.brows]] = 0.0
    return out
