"""The canonical face: the frame in which head pose and expression are told apart.

``data/canonical_face.npz`` is a neutral (lips together, eyes open), frontal, mirror-symmetric
mean face in units of the outer-eye-corner distance, built from bundled photos by
``scripts/build_canonical_face.py``. Axes: x towards the subject's left (image right), y down,
z away from the camera.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from ..motion.silhouette import HeadShape
from .topology import TOPOLOGY

_DATA = Path(__file__).with_name("data") / "canonical_face.npz"

def _soft_mask(points: np.ndarray, members: np.ndarray, sigma: float) -> np.ndarray:
    """1 on ``members``, falling off smoothly with canonical distance, so that neighbouring skin
    moves along with a region instead of tearing away from it."""
    d = np.linalg.norm(points[:, None, :2] - points[None, members, :2], axis=2).min(axis=1)
    return np.exp(-0.5 * (d / sigma) ** 2)


@dataclass(frozen=True)
class CanonicalFace:
    points: np.ndarray  # (478, 3)
    mirror: np.ndarray  # (478,) index of each point's left/right partner
    inner_lip_upper: np.ndarray  # upper inner-lip points, left to right, corners excluded
    inner_lip_lower: np.ndarray  # their partners on the lower inner lip

    @cached_property
    def triangles(self) -> np.ndarray:
        """Face-mesh triangles (T, 3), each ordered so that its normal faces the camera on the
        frontal canonical face; with :meth:`facing` they tell which points a pose hides."""
        tri = TOPOLOGY.triangles.copy()
        a, b, c = (self.points[tri[:, k]] for k in range(3))
        flip = np.cross(b - a, c - a)[:, 2] > 0  # z points away from the camera
        tri[flip] = tri[flip][:, ::-1]
        return tri

    def facing(self, points: np.ndarray) -> np.ndarray:
        """Per landmark, how squarely the surface there faces the camera for a posed face
        ``points`` (N, 3) in image axes: 1 facing, 0 edge-on, negative turned away. Points off
        the mesh (irises) count as facing."""
        tri = self.triangles
        a, b, c = (points[tri[:, k]] for k in range(3))
        normals = np.cross(b - a, c - a)
        vertex = np.zeros_like(points)
        for k in range(3):
            np.add.at(vertex, tri[:, k], normals)
        norm = np.linalg.norm(vertex, axis=1)
        out = np.ones(len(points))
        on_mesh = norm > 0
        out[on_mesh] = -vertex[on_mesh, 2] / norm[on_mesh]
        return out

    @cached_property
    def outline_depth(self) -> float:
        """Mean canonical depth of the face's outline: where the head's silhouette, hair and
        ears around it are taken to lie when they move with the head."""
        return float(self.points[TOPOLOGY.face_oval_loop, 2].mean())

    @cached_property
    def head(self) -> HeadShape:
        """The head as an ellipsoid: as wide and tall as the face oval, centred at the
        outline's depth, reaching forward to the tip of the nose."""
        oval = self.points[TOPOLOGY.face_oval_loop]
        low, high = oval.min(axis=0), oval.max(axis=0)
        depth = self.outline_depth
        return HeadShape(np.array([0.0, (low[1] + high[1]) / 2, depth]),
                         np.array([np.abs(oval[:, 0]).max(), (high[1] - low[1]) / 2,
                                   depth - self.points[:, 2].min()]))

    @cached_property
    def lip_loops(self) -> tuple[np.ndarray, np.ndarray]:
        return TOPOLOGY.lip_loops(self.points)

    @cached_property
    def mouth_corners(self) -> np.ndarray:
        inner = self.lip_loops[1]
        x = self.points[inner, 0]
        return inner[[np.argmin(x), np.argmax(x)]]

    @cached_property
    def outer_mouth_corners(self) -> np.ndarray:
        """The outer lip contour's corners (left, right by x), beyond the inner lips'."""
        outer = self.lip_loops[0]
        x = self.points[outer, 0]
        return outer[[np.argmin(x), np.argmax(x)]]

    @cached_property
    def upper_outer_lip(self) -> np.ndarray:
        outer = self.lip_loops[0]
        corners_y = self.points[self.mouth_corners, 1].mean()
        return outer[self.points[outer, 1] < corners_y]

    @cached_property
    def lower_lip(self) -> np.ndarray:
        outer = self.lip_loops[0]
        corners_y = self.points[self.mouth_corners, 1].mean()
        return np.r_[self.inner_lip_lower, outer[self.points[outer, 1] > corners_y]]

    @cached_property
    def eye_corners(self) -> dict[str, np.ndarray]:
        """Inner and outer corners of each eye (``"right"``, ``"left"``: the subject's sides)."""
        out = {}
        for side, eye in (("right", TOPOLOGY.right_eye), ("left", TOPOLOGY.left_eye)):
            x = self.points[eye, 0]
            out[side] = eye[[np.argmin(x), np.argmax(x)]]
        return out

    @cached_property
    def feature_masks(self) -> dict[str, np.ndarray]:
        """Soft per-landmark weights of each facial feature, in [0, 1] (the eyes and lips are
        what the regions of :mod:`deepexpo.motion.regions` are made of)."""
        return {
            "eyes": _soft_mask(self.points, TOPOLOGY.eyes, 0.04),
            "lips": np.maximum(self.mouth_mask, self.jaw_weights),
            "brows": _soft_mask(self.points, TOPOLOGY.brows, 0.04),
        }

    @cached_property
    def nose_base(self) -> np.ndarray:
        """The nose's landmarks no higher than its tip (the point nearest the camera): its
        tip, wings and nostrils."""
        nose = TOPOLOGY.nose
        tip = self.points[nose[np.argmin(self.points[nose, 2])], 1]
        return nose[self.points[nose, 1] >= tip]

    @cached_property
    def mouth_mask(self) -> np.ndarray:
        """Soft per-landmark weights of the mouth alone (its lips and the skin just around
        them, without the jaw below)."""
        return _soft_mask(self.points, TOPOLOGY.lips, 0.08)

    @cached_property
    def jaw_weights(self) -> np.ndarray:
        """How far each point follows the jaw when the mouth opens: 1 at the chin, 0 at and
        above the lips."""
        p = self.points
        chin_y = p[:, 1].max()
        mouth_y = p[TOPOLOGY.lips, 1].max()
        jaw = np.clip((p[:, 1] - mouth_y) / (chin_y - mouth_y), 0.0, 1.0) ** 0.5
        return jaw * np.exp(-0.5 * (p[:, 0] / 0.45) ** 2)

    @cached_property
    def jaw_drop(self) -> np.ndarray:
        """(478,) how far each point follows a dropping jaw: the lower lip and every point
        below the mouth at least as far as the lip above it (less would fold the lip into the
        chin), most mid-mouth and least at the corners (an oval opening, not a box); the
        upper lip stays."""
        p = self.points
        corners = p[self.mouth_corners]
        centre_x, half_width = corners[:, 0].mean(), np.ptp(corners[:, 0]) / 2
        across = np.clip((p[:, 0] - centre_x) / half_width, -1.0, 1.0)
        upper = p[self.inner_lip_upper]
        order = np.argsort(upper[:, 0])
        below_mouth = p[:, 1] > np.interp(p[:, 0], upper[order, 0], upper[order, 1])
        below_mouth[self.lower_lip] = True
        below_mouth[np.r_[self.upper_outer_lip, self.inner_lip_upper]] = False
        return np.maximum(self.jaw_weights, np.sqrt(1.0 - across**2) * below_mouth)

    @cached_property
    def lip_bands(self) -> tuple[np.ndarray, np.ndarray]:
        """The upper and lower lip: every landmark between each lip's inner and outer
        contour, corners excluded (the bands that keep their thickness as the mouth opens)."""
        p = self.points
        outer = self.lip_loops[0]
        corners_y = p[self.mouth_corners, 1].mean()
        lo, hi = p[self.mouth_corners, 0]
        out = []
        # The neutral face's lips touch: each band leaves out the other lip's inner contour.
        for inner, outer_part, other in (
                (self.inner_lip_upper, outer[p[outer, 1] < corners_y], self.inner_lip_lower),
                (self.inner_lip_lower, outer[p[outer, 1] > corners_y], self.inner_lip_upper)):
            a, b = _curve(p, inner), _curve(p, outer_part)
            top, bottom = np.minimum(a, b), np.maximum(a, b)
            inside = (p[:, 0] > lo) & (p[:, 0] < hi) & (p[:, 1] >= top - 1e-6) \
                & (p[:, 1] <= bottom + 1e-6)
            out.append(np.setdiff1d(np.flatnonzero(inside), other))
        return out[0], out[1]

    def without_lip_fullness(self, shape: np.ndarray) -> np.ndarray:
        """Canonical-frame landmarks ``shape`` with each lip thinned by its fullness: every
        landmark of a lip outside its inner contour (corners excluded) brought towards it by
        how many times further its outer contour lies from it than the canonical face's (the
        median over the middle half of the mouth, no less than 1).

        A single photo's lips are measured against the canonical face's (:meth:`expression`):
        lips fuller all along are the person's, not how they move. What the median leaves is
        (a lip thinned where it stretches, thickened where it bunches), and so are lips thinner
        than the canonical face's (stretched: an open mouth's, a smile's). Over the middle:
        towards the corners a round opening's inner contour runs steeply down, and its ends
        read thick (d19's scream: its upper lip 0.86 of the canonical face's thick over the
        middle, 1.47 over all its outer contour, 4.5 beside its corners)."""
        p = self.points
        out = shape.copy()
        corners = np.r_[self.mouth_corners, self.outer_mouth_corners]
        ends = p[self.mouth_corners, 0]
        middle = np.flatnonzero(np.abs(p[:, 0] - ends.mean()) < np.ptp(ends) / 4)
        for inner, outer_part, band, up in (
                (self.inner_lip_upper, self.upper_outer_lip, self.lip_bands[0], -1.0),
                (self.inner_lip_lower, np.setdiff1d(self.lower_lip, self.inner_lip_lower),
                 self.lip_bands[1], 1.0)):
            contour = np.r_[self.mouth_corners, inner]
            lip = np.setdiff1d(np.union1d(band, outer_part), np.r_[contour, corners])
            edge = middle[np.isin(middle, outer_part)]
            base = _curve(shape, contour)
            height = up * (shape[:, 1] - base)
            fullness = max(1.0, float(np.median(
                height[edge] / (up * (p[edge, 1] - _curve(p, contour)[edge])))))
            out[lip, 1] = base[lip] + up * height[lip] / fullness
        return out

    @cached_property
    def rigid_weights(self) -> np.ndarray:
        """Weights for the head-pose fit: high on points that expressions hardly move
        (nose, upper cheeks, temples), zero on lips, jaw, eyelids and brows."""
        m = self.feature_masks
        brows = _soft_mask(self.points, TOPOLOGY.brows, 0.06)
        moving = np.maximum.reduce([m["eyes"], brows, m["lips"]])
        nose_base_y = self.points[TOPOLOGY.lips, 1].min()
        w = 1.0 - moving
        w[self.points[:, 1] > nose_base_y] = 0.0
        return np.clip(w, 0.0, 1.0)

    @cached_property
    def spread(self) -> np.ndarray:
        """(478, 478) weights that extend expression measured on the features (lips, eyes,
        brows) smoothly over the surrounding skin, fading to nothing further away."""
        key = np.r_[TOPOLOGY.lips, TOPOLOGY.eyes, TOPOLOGY.brows]
        p = self.points[:, :2]
        d2 = ((p[:, None, :] - p[None, key, :]) ** 2).sum(axis=2)
        w = np.exp(-0.5 * d2 / 0.06**2)
        spread = np.zeros((len(p), len(p)))
        spread[:, key] = w / (w.sum(axis=1, keepdims=True) + 0.5)
        spread[key] = 0.0
        spread[key, key] = 1.0
        return spread

    def expression(self, shape: np.ndarray) -> np.ndarray:
        """The offset of canonical-frame landmarks ``shape`` from the same person's neutral face
        (lips together, eyes open, brows at rest).

        Each feature is compared with the canonical face's, aligned to a part of ``shape`` that
        the expression does not move: the lips to the upper lip, the eyes to their corners, the
        brows to their eye's inner corner. The result is spread smoothly over the skin around
        the features, and the jaw follows the lower lip.

        (Not the brows to both corners: the outer corner moves with the lids, lowered or
        looking down. d3.mp4 frowning and looking down, f132, read its brows' inner ends
        lowered 0.000 against both corners, 0.019 against the inner one, 0.017 in the head's
        frame (dlib on the frame: 0.044 of the eyes' distance); its relaxed brows at f60-f100,
        raised 0.018 against both, 0.005 against the inner one.)
        """
        p = self.points
        measured = np.zeros_like(shape)

        def compare(members: np.ndarray, anchors: np.ndarray) -> None:
            offset = shape[anchors].mean(axis=0) - p[anchors].mean(axis=0)
            measured[members] = shape[members] - (p[members] + offset)

        compare(TOPOLOGY.lips, self.upper_outer_lip)
        for eye, brow, corners in (
                (np.r_[TOPOLOGY.right_eye, TOPOLOGY.right_iris], TOPOLOGY.right_eyebrow,
                 self.eye_corners["right"]),
                (np.r_[TOPOLOGY.left_eye, TOPOLOGY.left_iris], TOPOLOGY.left_eyebrow,
                 self.eye_corners["left"])):
            compare(eye, corners)
            compare(brow, corners[np.abs(p[corners, 0]).argmin(keepdims=True)])
        expression = self.spread @ measured
        jaw_drop = measured[self.lower_lip].mean(axis=0)
        jaw = self.jaw_weights.copy()
        jaw[TOPOLOGY.lips] = 0.0
        return expression + jaw[:, None] * jaw_drop


def _curve(points: np.ndarray, members: np.ndarray) -> np.ndarray:
    """The height of the curve through ``members`` (ordered by x) under every point."""
    order = np.argsort(points[members, 0])
    return np.interp(points[:, 0], points[members[order], 0], points[members[order], 1])


@lru_cache(maxsize=1)
def canonical_face() -> CanonicalFace:
    with np.load(_DATA) as data:
        return CanonicalFace(
            points=data["points"].astype(np.float64),
            mirror=data["mirror"].astype(np.int64),
            inner_lip_upper=data["inner_lip_upper"].astype(np.int64),
            inner_lip_lower=data["inner_lip_lower"].astype(np.int64),
        )
