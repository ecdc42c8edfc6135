"""A face's proportions against the canonical (human) face's, so that expression carries
between domains in each face's own measure.

A driver's expression is read in the canonical face's units. On a face of other proportions (a
cartoon's large eyes, a snout's mouth) the same numbers would mean less or more than they did on
the driver, so each feature's part of an expression is scaled to the face: the mouth's (its
opening, a smile's widening) by the mouth's width, each brow's lift by its eye's height (no
more than the brow's height above the eye allows: a cat's brow sits close over a tall eye),
each iris's gaze by its eye's width. Eyelids close by a fraction of the eye's own opening
already (:mod:`.eyelids`), and head rotation needs no scaling.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import numpy as np

from ..face.canonical import canonical_face
from ..face.topology import TOPOLOGY
from .eyelids import Eyelid, eyelids
from .state import FaceMotion

#: How far a feature's expression is scaled at most, either way: points placed on a drawing
#: can make a feature many times a person's, and a warp cannot show a motion that large.
MAX_FACTOR = 4.0
#: How far (canonical units) a brow's scale reaches over the skin around it.
_REACH = 0.04
#: How much wider than at rest a placed face's eye opens at most: an animal's or a drawing's
#: eye shows no white above it, and opened further, the warp would stretch its dark rim up
#: into the fur (an egg-shaped eye under a smeared band).
MAX_WIDER = 0.1
#: How far a placed face's brow rises at most, as a fraction of its height above the eye:
#: the fur between them stretches by as much, and stretched further, it streaks.
BROW_ROOM = 0.3
#: A placed face's mouth opens as a muzzle's does, by its jaw: its corners stay where they
#: are (no person's round O, its corners drawn in), and its opening (the inner lips' mean
#: gap) tends to no more than this fraction of its width (wider than tall, however wide a
#: person's mouth opened: a smooth limit, so a half-open mouth opens half as far).
MUZZLE_OPENING = 0.35
#: How far (canonical units) the widening of a mouth drawn in reaches over the skin around
#: its lips.
_LIPS_REACH = 0.05


@dataclass(frozen=True)
class Proportions:
    """Each feature's scale against the canonical face's: the mouth's width, and per eye
    (the subject's right, then left) its width (for the gaze) and its brow's lift."""

    mouth: float
    eye_widths: tuple[float, float]
    brow_lifts: tuple[float, float]

    @classmethod
    def measure(cls, shape: np.ndarray) -> Proportions:
        """The proportions of a face at rest, from its landmarks in the canonical frame."""
        canon = canonical_face()

        def ratio(now: float, canonical: float) -> float:
            return float(np.clip(now / max(canonical, 1e-9), 1.0 / MAX_FACTOR, MAX_FACTOR))

        def width(points: np.ndarray, pair: np.ndarray) -> float:
            return float(np.linalg.norm(points[pair[0], :2] - points[pair[1], :2]))

        widths, lifts = [], []
        for lid, brow in zip(eyelids(), _brows(), strict=True):
            widths.append(ratio(width(shape, lid.corners), width(canon.points, lid.corners)))
            lifts.append(min(ratio(lid.opening(shape), lid.opening(canon.points)),
                             ratio(_brow_height(shape, lid, brow),
                                   _brow_height(canon.points, lid, brow))))
        return cls(ratio(width(shape, canon.mouth_corners),
                         width(canon.points, canon.mouth_corners)),
                   (widths[0], widths[1]), (lifts[0], lifts[1]))

    @cached_property
    def factors(self) -> np.ndarray:
        """(478, 3) what each landmark's expression is multiplied by: 1 away from the
        features, each feature's scale on it, fading out over the skin around it."""
        out = np.ones((TOPOLOGY.num_landmarks, 3))
        lips = canonical_face().feature_masks["lips"]  # the lips and the jaw below them
        out += lips[:, None] * (self.mouth - 1.0)
        for lid, mask, width, lift in zip(eyelids(), _brow_masks(), self.eye_widths,
                                          self.brow_lifts, strict=True):
            out[:, 1] += mask * (lift - 1.0)
            out[lid.iris, 0] = width
        return out

    def scale(self, expression: np.ndarray) -> np.ndarray:
        """An expression read in the canonical face's measure, in this face's."""
        return expression * self.factors

    @staticmethod
    def within_reach(target: FaceMotion, source: FaceMotion) -> FaceMotion:
        """``target`` with each eye opened no more than :data:`MAX_WIDER` wider than in
        ``source`` (the face at rest) and each brow raised no further than
        :data:`BROW_ROOM` of its height above the eye, the skin around it following, and its
        mouth opened as a muzzle's (:data:`MUZZLE_OPENING`)."""
        points = target.canonical.copy()
        _as_a_muzzle(points, source.canonical)
        for lid, brow, mask in zip(eyelids(), _brows(), _brow_masks(), strict=True):
            widest = (1.0 + MAX_WIDER) * lid.opening(source.canonical)
            now = lid.opening(points)
            if now > widest:
                points += lid.opening_to(points, lid.gaps(points) * (widest / now))
            room = BROW_ROOM * max(_brow_height(source.canonical, lid, brow), 0.0)
            rise = float((source.canonical[brow, 1] - points[brow, 1]).mean())
            if rise > room:  # y points down the face
                points[:, 1] += mask * (rise - room)
        change = points - target.canonical
        if not change.any():
            return target
        return replace(target, canonical=points, expression=target.expression + change)


def _as_a_muzzle(points: np.ndarray, rest: np.ndarray) -> None:
    """``points`` (in place) with the mouth no narrower than at ``rest`` (its lips and the
    skin around them widened about the mouth's middle) and its opening limited to
    :data:`MUZZLE_OPENING` of its width (the lower lip and the jaw raised together)."""
    canon = canonical_face()
    corners = canon.mouth_corners

    def width(shape: np.ndarray) -> float:
        return float(np.linalg.norm(shape[corners[0], :2] - shape[corners[1], :2]))

    rest_width, now = width(rest), width(points)
    if 0.0 < now < rest_width:
        middle = points[corners, 0].mean()
        points[:, 0] += _lips_mask() * (rest_width / now - 1.0) * (points[:, 0] - middle)
    upper, lower = canon.inner_lip_upper, canon.inner_lip_lower
    gap = float((points[lower, 1] - points[upper, 1]).mean())
    most = MUZZLE_OPENING * max(width(points), rest_width)
    if gap > 0.0 and most > 0.0:
        excess = gap - most * np.tanh(gap / most)
        jaw = canon.jaw_drop
        points[:, 1] -= excess / jaw[lower].mean() * jaw


@lru_cache(maxsize=1)
def _lips_mask() -> np.ndarray:
    """1 on the lips, fading out over the skin around them (:data:`_LIPS_REACH`)."""
    canon = canonical_face()
    p = canon.points[:, :2]
    lips = np.r_[canon.lip_loops[0], canon.lip_loops[1]]
    d = np.linalg.norm(p[:, None] - p[None, lips], axis=2).min(axis=1)
    return np.exp(-0.5 * (d / _LIPS_REACH) ** 2)


def _brows() -> tuple[np.ndarray, np.ndarray]:
    return TOPOLOGY.right_eyebrow, TOPOLOGY.left_eyebrow


def _brow_height(shape: np.ndarray, lid: Eyelid, brow: np.ndarray) -> float:
    """How far the brow's middle is above the eye's top."""
    return float(shape[lid.upper, 1].min() - shape[brow, 1].mean())


@lru_cache(maxsize=1)
def _brow_masks() -> tuple[np.ndarray, np.ndarray]:
    """Per brow, 1 on it, fading out over the skin around it, and nothing on the eye and its
    lid (which close by their own rule)."""
    p = canonical_face().points[:, :2]
    masks = []
    for lid, brow in zip(eyelids(), _brows(), strict=True):
        d = np.linalg.norm(p[:, None] - p[None, brow], axis=2).min(axis=1)
        mask = np.exp(-0.5 * (d / _REACH) ** 2)
        mask[np.r_[lid.outline, lid.iris, lid.lid]] = 0.0
        masks.append(mask)
    return masks[0], masks[1]
