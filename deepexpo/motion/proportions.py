"""A face's proportions against the canonical (human) face's, so that expression carries
between domains in each face's own measure.

A driver's expression is read in the canonical face's units. On a face of other proportions (a
cartoon's large eyes, a snout's mouth) the same numbers would mean less or more than they did on
the driver, so each feature's part of an expression is scaled to the face: the mouth's (its
opening, a smile's widening) by the mouth's width, each eye's and brow's by that eye's height
and width (brow lift relative to eye height). Eyelids close by a fraction of the eye's own
opening already (:mod:`.eyelids`), and head rotation needs no scaling.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from ..face.canonical import canonical_face
from ..face.topology import TOPOLOGY
from .eyelids import eyelids

#: How far a feature's expression is scaled at most, either way: points placed on a drawing
#: can make a feature many times a person's, and a warp cannot show a motion that large.
MAX_FACTOR = 4.0
#: How far (canonical units) a feature's scale reaches over the skin around it.
_REACH = 0.06


@dataclass(frozen=True)
class Proportions:
    """Each feature's size over the canonical face's: the mouth's width, and each eye's
    (subject's right, then left) width and opening."""

    mouth: float
    eye_widths: tuple[float, float]
    eye_heights: tuple[float, float]

    @classmethod
    def measure(cls, shape: np.ndarray) -> Proportions:
        """The proportions of a face at rest, from its landmarks in the canonical frame."""
        canon = canonical_face()

        def ratio(now: float, canonical: float) -> float:
            return float(np.clip(now / canonical, 1.0 / MAX_FACTOR, MAX_FACTOR))

        def width(points: np.ndarray, pair: np.ndarray) -> float:
            return float(np.linalg.norm(points[pair[0], :2] - points[pair[1], :2]))

        corners = canon.mouth_corners
        widths, heights = [], []
        for lid in eyelids():
            widths.append(ratio(width(shape, lid.corners), width(canon.points, lid.corners)))
            heights.append(ratio(lid.opening(shape), lid.opening(canon.points)))
        return cls(ratio(width(shape, corners), width(canon.points, corners)),
                   (widths[0], widths[1]), (heights[0], heights[1]))

    @cached_property
    def factors(self) -> np.ndarray:
        """(478, 3) what each landmark's expression is multiplied by: 1 away from the
        features, each feature's scale on it and fading out over the skin around."""
        out = np.ones((TOPOLOGY.num_landmarks, 3))
        lips = canonical_face().feature_masks["lips"]  # the lips and the jaw below them
        out += lips[:, None] * (self.mouth - 1.0)
        for mask, width, height in zip(_eye_masks(), self.eye_widths, self.eye_heights,
                                       strict=True):
            out[:, 0] += mask * (width - 1.0)
            out[:, 1] += mask * (height - 1.0)
        return out

    def scale(self, expression: np.ndarray) -> np.ndarray:
        """An expression read in the canonical face's measure, in this face's."""
        return expression * self.factors


@lru_cache(maxsize=1)
def _eye_masks() -> tuple[np.ndarray, np.ndarray]:
    """Per eye, 1 on the eye, its iris and its brow, fading out over the skin around them."""
    p = canonical_face().points[:, :2]
    masks = []
    for lid, brow in zip(eyelids(), (TOPOLOGY.right_eyebrow, TOPOLOGY.left_eyebrow),
                         strict=True):
        members = np.r_[lid.outline, lid.iris, lid.lid, brow]
        d = np.linalg.norm(p[:, None] - p[None, members], axis=2).min(axis=1)
        masks.append(np.exp(-0.5 * (d / _REACH) ** 2))
    return masks[0], masks[1]
