"""How the eyes open and close on a face in the canonical frame.

MediaPipe's eyelid landmarks sit inside the visible lid edge: brought together, they leave a
band of eye between the lids. So a blink is not copied landmark by landmark: the driver's eye
closure is read as a fraction of its open eye (:func:`closure`), and the lid is slid down over
the source's eye by that fraction, carrying the lid skin with it (:meth:`Eyelid.closing`), as
the expression editor's blink does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..face.canonical import canonical_face
from ..face.topology import TOPOLOGY
from .compose import MotionOptions
from .regions import landmark_weights
from .state import FaceMotion

#: The gap left between the margins of a shut eye, as a fraction of its open gap: a hair's
#: breadth (a third of a pixel on a 512 px face), so the triangles between them keep an area.
_SHUT_GAP = 0.03
#: How far above the margin (canonical units; an open eye's gap is 0.06, its brow 0.14 above)
#: the lid skin follows a closing margin, less the further up.
_LID_FOLLOW = 0.07
#: The narrowest open eye, as a fraction of the canonical face's.
_OPEN_FLOOR = 0.7
#: How far MediaPipe moves one lid margin's landmarks with the other's, as a fraction of that
#: one's move: it reads an eye's margins together. In a blink, where the lower lid stays, it
#: reads the lower margin risen by 0.34-0.46 of the upper's drop (d19.mp4 frames 99-100,
#: d12.mp4 frame 48).
_MARGINS_READ_TOGETHER = 0.45


@dataclass(frozen=True)
class Eyelid:
    """One eye's lids: landmark indices and how the lid skin follows a closing margin."""

    outline: np.ndarray  # the eye's contour landmarks, in order around it
    upper: np.ndarray  # upper-lid margin landmarks
    lower: np.ndarray
    iris: np.ndarray
    lid: np.ndarray  # upper-lid skin landmarks between the margin and the brow
    lid_margin: np.ndarray  # for each, the margin landmark below it
    lid_weight: np.ndarray  # how far each follows a closing margin (1 near it, 0 at the brow)
    corners: np.ndarray  # the eye's two corners
    brow: np.ndarray  # the brow's landmarks above the eye
    outer: int  # the outer corner (the one further from the face's midline)

    @property
    def inner(self) -> int:
        """The inner corner (the one nearer the face's midline)."""
        return int(self.corners[self.corners != self.outer][0])

    def gaps(self, shape: np.ndarray) -> np.ndarray:
        """For each upper-margin landmark of canonical-frame landmarks ``shape``, how far the
        lower margin is below it (read off the lower lid's curve, so a shut eye closes on a
        smooth line rather than on a zigzag between landmark pairs)."""
        return _curve_at(shape[self.lower], shape[self.upper, 0]) - shape[self.upper, 1]

    def heights(self, shape: np.ndarray) -> np.ndarray:
        """For each lower-margin landmark of canonical-frame landmarks ``shape``, how far it is
        below the upper lid (read off the upper lid's curve; none where the lids cross): the
        eye's height there, next to nothing by its corners."""
        return np.maximum(shape[self.lower, 1] - _curve_at(shape[self.upper],
                                                           shape[self.lower, 0]), 0.0)

    def opening(self, shape: np.ndarray) -> float:
        """Mean gap between the lid margins of canonical-frame landmarks ``shape``."""
        return float(self.gaps(shape).mean())

    def margin_move(self, margin: np.ndarray, before: np.ndarray, after: np.ndarray) -> float:
        """How far ``margin`` (this eye's upper or lower margin landmarks) moves down against
        the eye's corners from canonical-frame landmarks ``before`` to ``after``, in the eye's
        openings in ``before`` (-1 to 1)."""
        opening = self.opening(before)
        if opening <= 1e-9:
            return 0.0
        down = (after[margin, 1] - before[margin, 1]).mean() \
            - (after[self.corners, 1] - before[self.corners, 1]).mean()
        return float(np.clip(down / opening, -1.0, 1.0))

    def lower_share(self, before: np.ndarray, after: np.ndarray) -> float:
        """The share of an eye's narrowing from ``before`` to ``after`` (canonical-frame
        landmarks) that its lower lid makes by rising, 0 to 1: each margin's move, less what
        MediaPipe reads of the other's along with it (:data:`_MARGINS_READ_TOGETHER`). None in
        a blink, where the upper lid alone comes down; about half in a squint, both lids
        narrowing the eye."""
        down = self.margin_move(self.upper, before, after)
        up = -self.margin_move(self.lower, before, after)
        upper = max(down - _MARGINS_READ_TOGETHER * max(up, 0.0), 0.0)
        lower = max(up - _MARGINS_READ_TOGETHER * max(down, 0.0), 0.0)
        return lower / (upper + lower) if upper + lower > 1e-9 else 0.0

    def shown(self, shape: np.ndarray, shut_open: tuple[float, float]) -> float:
        """How much of the eye canonical-frame landmarks ``shape`` show: 0 under
        ``shut_open[0]`` of the canonical eye's gap (shut: the lid hides the eyeball), 1 over
        ``shut_open[1]`` (open)."""
        ratio = self.opening(shape) / self.opening(canonical_face().points)
        return float(np.clip((ratio - shut_open[0]) / (shut_open[1] - shut_open[0]), 0.0, 1.0))

    def closing(self, shape: np.ndarray, amount: float) -> np.ndarray:
        """Displacement that closes this eye on ``shape`` by ``amount`` (1: shut, negative:
        wider)."""
        return self.opening_to(shape, (1.0 - amount) * self.gaps(shape))

    def opening_to(self, shape: np.ndarray, gaps: np.ndarray) -> np.ndarray:
        """Displacement that leaves each upper-margin landmark of ``shape`` ``gaps`` above the
        lower lid. The upper lid slides, carrying the skin just above the margin (the
        landmarks sit inside the visible lid edge) and stretching the skin up to the brow; the
        iris goes down with a closing lid. Whatever the margins' gaps were (lids that crossed
        included), the eye ends with these."""
        out = np.zeros_like(shape)
        now = self.gaps(shape)
        down = now - gaps
        out[self.upper, 1] = down
        out[self.lid, 1] = self.lid_weight * down[np.searchsorted(self.upper, self.lid_margin)]
        closed = float(np.clip(down.mean() / now.mean(), 0.0, 1.0)) if now.mean() > 1e-9 \
            else float(down.mean() > 0)
        lower_y = shape[self.lower, 1].mean()
        out[self.iris, 1] = closed * 0.8 * (lower_y - shape[self.iris[0], 1])
        return out


def _curve_at(points: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The height (y) at each ``x`` of the curve through ``points`` (a lid's margin)."""
    order = np.argsort(points[:, 0])
    return np.interp(x, points[order, 0], points[order, 1])


def _eyelid(contour: np.ndarray, iris: np.ndarray, brow: np.ndarray,
            points: np.ndarray) -> Eyelid:
    x, y = points[contour, 0], points[contour, 1]
    a, b = np.argmin(x), np.argmax(x)
    corner_line = y[a] + (y[b] - y[a]) * (x - x[a]) / (x[b] - x[a])
    interior = np.ones(len(contour), bool)
    interior[[a, b]] = False
    upper = np.sort(contour[interior & (y < corner_line)])
    lower = contour[interior & (y >= corner_line)]
    # Skin above the margin, below the brow, within the eye's width.
    margin_y = np.interp(points[:, 0], np.sort(points[upper, 0]),
                         points[upper, 1][np.argsort(points[upper, 0])])
    brow_y = points[brow, 1].mean()
    height = margin_y - points[:, 1]  # above the margin
    span = (points[:, 0] > x.min()) & (points[:, 0] < x.max())
    lid = np.flatnonzero(span & (height > 1e-6) & (points[:, 1] > brow_y))
    lid = np.setdiff1d(lid, np.r_[contour, iris, brow])
    # Only the lid just above the margin follows it: dragged further up, a closing lid would
    # pull the brow down with it (the warp redraws the lid it sweeps, render/lids.py).
    weight = np.clip(1.0 - height[lid] / _LID_FOLLOW, 0.0, 1.0)
    nearest = upper[np.abs(points[lid, None, 0] - points[None, upper, 0]).argmin(axis=1)]
    outer = int(contour[[a, b]][np.argmax(np.abs(x[[a, b]]))])
    return Eyelid(contour, upper, lower, iris, lid, nearest, weight, contour[[a, b]], brow, outer)


@lru_cache(maxsize=1)
def eyelids() -> tuple[Eyelid, Eyelid]:
    """The subject's right and left eyelids, from the canonical face."""
    p = canonical_face().points
    return (_eyelid(TOPOLOGY.right_eye_loop, TOPOLOGY.right_iris, TOPOLOGY.right_eyebrow, p),
            _eyelid(TOPOLOGY.left_eye_loop, TOPOLOGY.left_iris, TOPOLOGY.left_eyebrow, p))


def closure(opening: float, open_opening: float, shut_fraction: float) -> float:
    """How closed an eye is, 0 (as open as ``open_opening``) to 1 (shut), negative when
    wider: an eye whose landmarks are ``shut_fraction`` of their open gap apart counts as shut
    (landmark noise on a closed eye)."""
    if open_opening <= 1e-9:
        return 0.0
    return float(np.clip((open_opening - opening) / ((1.0 - shut_fraction) * open_opening),
                         -0.5, 1.0))


def follow_closure(target: FaceMotion, source: FaceMotion, driving: FaceMotion,
                   reference: FaceMotion, options: MotionOptions,
                   shut_fraction: float) -> FaceMotion:
    """``target`` (composed from these motions) with each eye closed as far as the driver's
    is, as a fraction of the eye, by sliding the source's lid over it, its lower lid rising by
    the share of the narrowing the driver's does (:meth:`Eyelid.lower_share`: a squint
    narrows the eye from both lids, a blink from above). Relative: the driver's
    closure from the reference's eye, applied on top of the source's own; absolute: from
    each face's own neutral eye."""
    weights = options.strength * landmark_weights(options.region)
    if options.relative:
        driver_open, source_base = reference.canonical, source.canonical
    else:
        driver_open = driving.canonical - driving.expression
        source_base = source.canonical - source.expression
    offset = np.zeros_like(target.canonical)
    driver_neutral = driving.canonical - driving.expression
    canon = canonical_face().points
    for lid in eyelids():
        weight = float(weights[lid.iris[0]])
        if weight <= 0:
            continue
        # A reference whose eye is much narrower than a typical open one (a driving photo's
        # own closed eye, made "neutral" by a warp that cannot open it) is not an open eye.
        open_gap = max(lid.opening(driver_open), _OPEN_FLOOR * lid.opening(driver_neutral))
        c = closure(lid.opening(driving.canonical), open_gap, shut_fraction)
        now = lid.opening(source.canonical)
        base_gaps = lid.gaps(source_base)
        base = float(base_gaps.mean())
        wanted = max(now + weight * (base * (1.0 - c) - now), _SHUT_GAP * base)
        # The lid keeps the curve of the source's own eye: the driver's, added on top of it,
        # may cross the lower lid where the source's eye is narrower. (Shifted rather than
        # scaled to the gap wanted where the source's eye is shut: a gap of next to nothing,
        # or lids that cross, scaled the curve up by thousands and threw the lid into the brow.)
        if base > _SHUT_GAP * lid.opening(canon):
            gaps = base_gaps * (wanted / base)
        else:
            gaps = base_gaps + (wanted - base)
        lifted = _lower_lid_lifted(lid, target.canonical, gaps,
                                   lid.lower_share(driver_open, driving.canonical))
        offset += lifted + lid.opening_to(target.canonical + lifted, gaps)
    return replace(target, canonical=target.canonical + offset,
                   expression=target.expression + offset)


def _lower_lid_lifted(lid: Eyelid, shape: np.ndarray, gaps: np.ndarray, share: float
                      ) -> np.ndarray:
    """Displacement that lifts the lower lid of ``shape`` by ``share`` of the narrowing from
    its gaps to ``gaps`` (each landmark by the eye's height there, as a smile lifts it):
    a squint's rising lower lid narrows the eye from below. Slid down over the eye by the
    whole narrowing, the upper lid drooped over half the iris where the driver's lower lid
    rose (d19.mp4 frame 16)."""
    out = np.zeros_like(shape)
    now = float(lid.gaps(shape).mean())
    if share <= 0 or now <= 1e-9:
        return out
    narrowing = max(1.0 - float(gaps.mean()) / now, 0.0)
    out[lid.lower, 1] = -share * narrowing * lid.heights(shape)
    return out


def opened_as_shown(target: FaceMotion, source: FaceMotion, shut_open: tuple[float, float]
                    ) -> tuple[FaceMotion, list[int]]:
    """``target`` with each eye opened no further than ``source``'s pixels show it: a shut
    eye (under ``shut_open[0]`` of the canonical eye's gap) keeps its own lids, an open one
    (over ``shut_open[1]``) opens as far as ``target`` asks, and one in between that fraction
    of the way; closing is never held back. For a renderer that only moves the source's
    pixels: behind a shut lid there is no eyeball to show. The lid skin held back stretches
    between its margin and the brow, which moves as ``target`` asks. Also returns the sides
    (0: right, 1: left) held back by more than a fifth of the canonical eye's gap."""
    canon = canonical_face().points
    shape = target.canonical.copy()
    held = []
    for side, lid in enumerate(eyelids()):
        full = lid.opening(canon)
        shown = lid.shown(source.canonical, shut_open)
        own, wanted = lid.gaps(source.canonical), lid.gaps(shape)
        gaps = wanted - (1.0 - shown) * np.maximum(wanted - own, 0.0)
        back = float((wanted - gaps).mean())
        if back <= 1e-9:
            continue
        shape += lid.opening_to(shape, gaps)
        if back > 0.2 * full:
            held.append(side)
        # The lid skin as the source's, stretched from the margin (where it now is) up to the
        # brow: left where the opening put it, it was squeezed into the brow, and the map
        # folded there along a hard edge.
        was = source.canonical
        margin = np.searchsorted(lid.upper, lid.lid_margin)
        margin_move = (shape[lid.upper] - was[lid.upper])[margin]
        brow_move = (shape[lid.brow] - was[lid.brow]).mean(axis=0)
        height = was[lid.upper[margin], 1] - was[lid.lid, 1]
        reach = np.maximum(was[lid.upper[margin], 1] - was[lid.brow, 1].mean(), 1e-9)
        up = np.clip(height / reach, 0.0, 1.0)[:, None]
        kept = was[lid.lid] + (1.0 - up) * margin_move + up * brow_move
        k = (1.0 - shown) * min(1.0, back / (0.1 * full))
        shape[lid.lid] += k * (kept - shape[lid.lid])
    offset = shape - target.canonical
    return replace(target, canonical=shape, expression=target.expression + offset), held
