"""An opening mouth as a 2D warp can show it: lips that keep their thickness, a jaw that carries
the chin along, and an opening no wider than a mouth opens.

A driver's landmarks describe *its* lips: added to a source whose lips are fuller, a wide opening
moves the inner lower lip down further than the outer one and stretches the lip thin; a source
video's own open mouth and the driver's change add up past anything a jaw does. So the target is
reshaped here: the opening is capped, each lip is a band that keeps at least its own thickness
(its outer edge pushed out with the inner one, the landmarks inside it between the two), the
landmarks in each corner move with its corners, and the skin below the mouth goes down at least
as far as the lower lip, so the chin moves with it instead of folding under it. A dropping jaw
draws the corners down partway, the upper lip arching over the opening (:func:`corners_down`).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from ..face.canonical import canonical_face
from ..face.measure import mouth_opening
from ..geometry.ramps import smoothstep
from .state import FaceMotion

#: The upper lip is never made thinner than this fraction of its own thickness; ...
KEEP_THICKNESS = 0.9
#: ... the lower lip, carried down by the jaw as a band, than its own. (Kept to 0.9 of it,
#: Grace Hopper's screamed by d19, whose own lower lip would thin hers to 0.64 at its
#: middle, read 0.87 of her own down its middle on the pixels; dlib read it 1.67, its inner
#: lower lip on the tongue in the opening's middle, its outer one on the dark above the lip.)
KEEP_LOWER_THICKNESS = 1.0
#: The skin below the mouth goes down at least this fraction of the lower lip's drop (times
#: how far it follows the jaw): enough that the lip never folds into the chin, short of
#: moving the chin as a rigid block (the skin between them stretches).
JAW_FOLLOW = 0.7
#: The landmarks in a mouth's corner that move with it lie within this many times the distance
#: between its outer and inner corner from the outer one.
CORNER_REACH = 2.5
#: ... and move as this many of the lips' contour landmarks nearest them do.
CORNER_NEIGHBOURS = 4
#: An open mouth's corners lie at least this fraction of the way down its opening, from its
#: upper inner lip's middle to its lower one's: the jaw draws them down with it while the
#: upper lip's middle stays (real mouths opened 0.48 to 0.67 read 0.42 to 0.55 by MediaPipe,
#: d19, d12 and d3), ...
CORNERS_DOWN = 0.4
#: ... going down at most this fraction of as far as the lower lip does beyond this fraction
#: of the mouth's width, on a mouth whose lips met (parted less than that): lips parted a
#: little meet at their corners as closed ones do (real ones parted 0.06 to 0.09 arch no
#: more than closed: d3), and a mouth shown parted has its own opening's shape, its corners
#: where its lips part (s42's, the astronaut's smile).
CORNERS_FOLLOW, CORNERS_FROM = 0.5, 0.05
#: ... fully on lips parted less than this fraction of that, fading to none at it: a source
#: video's mouth parts across it from frame to frame, and the corners drawn down or not
#: would jump between two shapes.
CORNERS_FULL = 0.5
#: A mouth opened this much further than the source's (inner-lip gap over width) has its
#: inner lips' landmarks laid out along the lip as the driver's are, fully from the second
#: (:func:`laid_out_as_drivers`): lips parted as in talking (d19.mp4's, up to 0.2) keep
#: their own.
DRIVERS_LAYOUT = (0.25, 0.45)


def shape_mouth(target: FaceMotion, source: FaceMotion, max_opening: float,
                max_jaw_drop: float) -> FaceMotion:
    """``target`` with its opening capped at ``max_opening`` (inner-lip gap over mouth width)
    and its jaw drop from ``source`` at ``max_jaw_drop`` (canonical units), its upper lip at
    least :data:`KEEP_THICKNESS` of its thickness in ``source``, its lower lip at least
    :data:`KEEP_LOWER_THICKNESS` of its, and the skin below the mouth following the lower lip
    down."""
    canon = canonical_face()
    before = target.canonical
    points = before.copy()
    jaw = canon.jaw_drop
    upper, lower = canon.inner_lip_upper, canon.inner_lip_lower
    corners = points[canon.mouth_corners, :2]
    width = float(np.linalg.norm(corners[0] - corners[1]))
    if source.proportions is not None:  # a jaw drops as far for a mouth of its size
        max_jaw_drop *= source.proportions.mouth
    drop = float((points[lower, 1] - source.canonical[lower, 1]).mean())
    _close(points, source.canonical, drop - max_jaw_drop, upper_lip=False)
    gap = float((points[lower, 1] - points[upper, 1]).mean())
    _close(points, source.canonical, gap - max_opening * width, upper_lip=True)
    # (A person's: an animal's or a drawing's mouth is its own.)
    if source.proportions is None:
        parted = mouth_opening(source.canonical) / CORNERS_FROM
        corners_down(points, source.canonical,
                     float(np.clip((1.0 - parted) / (1.0 - CORNERS_FULL), 0.0, 1.0)))
    outer = canon.lip_loops[0]
    corners_y = canon.points[canon.mouth_corners, 1].mean()
    upper_band, lower_band = canon.lip_bands
    # Each inner contour runs corner to corner: without the corners, a lip's last points
    # (beside the corner, beyond its inner landmarks) were measured against the inner lip's
    # next landmark, dropped with the jaw, and pushed below it: the lower lip's outer contour
    # went straight down the side of the opening instead of tapering into the corner.
    for inner, outer_part, band, keep in (
            (upper, outer[canon.points[outer, 1] < corners_y], upper_band, KEEP_THICKNESS),
            (lower, outer[canon.points[outer, 1] > corners_y], lower_band,
             KEEP_LOWER_THICKNESS)):
        edge = np.r_[canon.mouth_corners, inner]
        _keep_thickness(points, source.canonical, edge, np.intersect1d(outer_part, band), keep)
        _within_band(points, source.canonical, edge, outer_part, band)
    _keep_corners(points, source.canonical)
    # The skin below the mouth goes down with the lower lip: at least JAW_FOLLOW of its
    # mean drop, just under it as far as the lip above it, and from there less and less down
    # to the chin, where the motion put it (never passed by the lip: a fold, whose edge the
    # warp draws hard and stair-stepped). The lip's extra drop over the chin's is taken up
    # mostly midway, in the fold above the chin, little just under the lip, where its rim
    # lies beyond its landmarks (squeezed evenly from the lip's edge down, Grace Hopper's
    # screamed lower lip read 0.92 of her own down its middle on the pixels; 0.95 now).
    lip_drop = (points[canon.lower_lip, 1] - source.canonical[canon.lower_lip, 1]).mean()
    if lip_drop > 0:
        below = (jaw > 0) & ~np.isin(np.arange(len(points)),
                                     np.r_[upper_band, lower_band, outer])
        src = source.canonical[below]
        lip_edge = outer[canon.points[outer, 1] > corners_y]
        lip_edge = lip_edge[np.argsort(source.canonical[lip_edge, 0])]
        edge_at = np.interp(src[:, 0], source.canonical[lip_edge, 0],
                            source.canonical[lip_edge, 1])
        edge_drop = np.interp(src[:, 0], source.canonical[lip_edge, 0],
                              points[lip_edge, 1] - source.canonical[lip_edge, 1])
        # (The lip's extra drop over the chin's taken up by the skin just under it, squeezed
        # by half against the lip's mean drop, squeezed the skin under its middle, which
        # drops furthest, to a third: the paler skin further down came up under the lip as
        # a pale ring, s1 by d19.)
        least = JAW_FOLLOW * lip_drop
        chin = int(np.argmax(source.canonical[:, 1]))
        chin_drop = max(float(points[chin, 1] - source.canonical[chin, 1]), least)
        down = smoothstep((src[:, 1] - edge_at)
                          / np.maximum(source.canonical[chin, 1] - edge_at, 1e-6))
        follow = np.maximum(least, edge_drop - (edge_drop - chin_drop) * down)
        floor = src[:, 1] + jaw[below] * follow
        points[below, 1] = np.maximum(points[below, 1], floor)
    change = points - before
    if not change.any():
        return target
    return replace(target, canonical=points, expression=target.expression + change)


def laid_out_as_drivers(target: FaceMotion, source: FaceMotion, driving: FaceMotion
                        ) -> FaceMotion:
    """``target`` with its inner lips' landmarks where the driver's lie along its lip, each
    as a fraction of the way from its mouth's middle to a corner, as far as its opening is
    the driver's (:data:`DRIVERS_LAYOUT`). An opening's shape is its heights *and* where
    along the lip they stand; a relative motion gives each landmark the driver's height but
    leaves it where the source's closed lips have it, and a detector spaces the landmarks of
    lips that meet otherwise than round an opening: by d19 (its landmarks next to its
    corners 0.88 of the way out, the next ones 0.74 and 0.56) s1's lay up to 0.12 of the
    way nearer its middle (0.83, 0.66, 0.46), s10's (a turned face) up to 0.22, the opening
    drawn through them not d19's."""
    canon = canonical_face()
    opened = mouth_opening(target.canonical) - mouth_opening(source.canonical)
    low, full = DRIVERS_LAYOUT
    share = float(smoothstep((opened - low) / (full - low)))
    if share == 0.0:
        return target
    inner = np.r_[canon.inner_lip_upper, canon.inner_lip_lower]
    middle, half = _middle_and_half_width(target.canonical)
    driver_middle, driver_half = _middle_and_half_width(driving.canonical)
    drivers = middle + (driving.canonical[inner, 0] - driver_middle) * half / driver_half
    points = target.canonical.copy()
    points[inner, 0] += share * (drivers - points[inner, 0])
    change = points - target.canonical
    return replace(target, canonical=points, expression=target.expression + change)


def _middle_and_half_width(points: np.ndarray) -> tuple[float, float]:
    """Where a mouth's middle lies across the face (midway between its inner corners) and
    half its width (canonical units)."""
    ends = points[canonical_face().mouth_corners, 0]
    return float(ends.mean()), max(float(np.ptp(ends)) / 2, 1e-9)


def _close(points: np.ndarray, source: np.ndarray, cut: float, upper_lip: bool) -> None:
    """Close the mouth (in place) by ``cut`` (canonical units, at the inner lips, on the
    mean) from ``source``: the lips' moves away from the corners' (the lower lip's, and the
    skin's below, down with the jaw; the upper lip's up, if ``upper_lip``) cut in
    proportion, and what they cannot close by lifting the jaw (by its weights). Cut by the
    jaw's weights alone (none at the corners), a round opening's lower lip, which beside
    the corners drops nearly as far below them as at its middle, was lifted above them at
    each end into a hook, and the upper lip kept all its rise (s7 by d19: a pointed arch
    over a lower lip drawn flat, folded into each corner)."""
    if cut <= 0:
        return
    canon = canonical_face()
    jaw = canon.jaw_drop
    lower, upper = canon.inner_lip_lower, canon.inner_lip_upper
    moved = points[:, 1] - source[:, 1]
    away = moved - moved[canon.mouth_corners].mean()
    down = jaw * np.maximum(away, 0.0)
    up = np.zeros(len(points))
    if upper_lip:
        lip = np.r_[canon.lip_bands[0], canon.upper_outer_lip]
        up[lip] = np.maximum(-away[lip], 0.0)
    both = float(down[lower].mean() + up[upper].mean())
    share = min(1.0, cut / both) if both > 0 else 0.0
    points[:, 1] += share * (up - down)
    rest = cut - share * both
    if rest > 0:
        points[:, 1] -= rest / jaw[lower].mean() * jaw


def corners_down(points: np.ndarray, source: np.ndarray, share: float = 1.0) -> None:
    """Arch (in place) an open mouth's upper lip (:func:`_upper_lip_arch`) until its corners
    lie no higher in the opening than :data:`CORNERS_DOWN` (beyond as far as they do in
    ``source``'s), going down no further than the lower lip lets (:data:`CORNERS_FOLLOW`);
    ``share`` of that (lips parted a little: :data:`CORNERS_FULL`).
    Opened by the jaw alone (its drop none at the corners), lips that met on a straight line
    kept it as the opening's top edge, corner to corner, the lower lip hanging from it in a
    half disc with blunt ends (Grace Hopper by aaa: her corners 0.14 of the way down its
    dark opening)."""
    canon = canonical_face()
    arch = _upper_lip_arch()
    level = 1.0 - float(arch[canon.mouth_corners].mean())  # how far up its middle goes
    lower, corners = canon.inner_lip_lower, points[canon.mouth_corners, :2]
    width = float(np.linalg.norm(corners[0] - corners[1]))
    # (Its middle up by ``level`` of it, the opening's middle is as much taller. Not where
    # the motion raised them, as a smile does: the jaw draws down only corners nothing
    # lifts.)
    drop = float((points[lower, 1] - source[lower, 1]).mean()) - CORNERS_FROM * width
    down = min((_corners_high(points) - _corners_high(source)) / (1 - CORNERS_DOWN * level)
               - max(_corners_arched(source) - _corners_arched(points), 0.0),
               CORNERS_FOLLOW * drop / (1.0 - level))
    if down > 0:
        points[:, 1] += share * down * arch


def _corners_arched(points: np.ndarray) -> float:
    """How far (canonical units) a mouth's corners lie below its upper inner lip's middle."""
    canon = canonical_face()
    upper = canon.inner_lip_upper
    middle = upper[np.argmin(np.abs(canon.points[upper, 0]
                                    - canon.points[canon.mouth_corners, 0].mean()))]
    return float(points[canon.mouth_corners, 1].mean() - points[middle, 1])


@lru_cache(maxsize=1)
def _upper_lip_arch() -> np.ndarray:
    """(478,) How far down each landmark goes as an open mouth's upper lip arches by one
    canonical unit (its corners against its middle): each of the lip's landmarks as the cube
    of how far across the mouth it lies, less its inner contour's mean (the lip's mean
    height, and so the opening the jaw made, kept), the lower lip where the jaw put it, the
    skin around as they go. (Real mouths' upper inner lip 0.86, 0.71 and 0.52 of the way to
    a corner stands 0.4, 0.67 and 0.87 as high as at its middle, their lower lip drops as
    1 - across**2: the jaw's drop, less the corners'. Lowered with them, the lower lip's
    ends were steep sides, the opening a hexagon; the upper lip's ends lowered alone, a
    narrower opening, Hopper's read 0.27 open instead of 0.33 blurred.)"""
    canon = canonical_face()
    p = canon.points
    upper = np.unique(np.r_[canon.lip_bands[0], canon.upper_outer_lip, canon.inner_lip_upper,
                            canon.mouth_corners, canon.outer_mouth_corners])
    centre, half = p[canon.mouth_corners, 0].mean(), np.ptp(p[canon.mouth_corners, 0]) / 2
    arch = np.clip(np.abs(p[upper, 0] - centre) / half, 0.0, 1.0) ** 3
    features = np.zeros(len(p))
    features[upper] = arch - arch[np.isin(upper, canon.inner_lip_upper)].mean()
    out: np.ndarray = canon.spread @ features
    return out


def _corners_high(points: np.ndarray) -> float:
    """How far (canonical units) a mouth's corners lie above :data:`CORNERS_DOWN` of the way
    down its opening, from its upper inner lip's highest to its lower one's lowest (none
    below)."""
    canon = canonical_face()
    a, b = points[canon.mouth_corners, :2]
    up = np.array([b[1] - a[1], a[0] - b[0]]) / max(float(np.linalg.norm(b - a)), 1e-9)
    upper = float(((points[canon.inner_lip_upper, :2] - a) @ up).max())
    lower = float(((points[canon.inner_lip_lower, :2] - a) @ up).min())
    return max(CORNERS_DOWN * (upper - lower) - upper, 0.0)


@lru_cache(maxsize=1)
def corner_folds() -> tuple[np.ndarray, np.ndarray]:
    """The landmarks in each mouth corner (left, right) on neither lip's contours nor in its
    band: inwards of the lips' outer corner, within :data:`CORNER_REACH` of the distance from
    it to the inner lips' corner (the fold where the lips meet, and the end of the lower lip's
    middle row, which the neutral face draws under its thin lip)."""
    canon = canonical_face()
    p = canon.points[:, :2]
    free = np.ones(len(p), bool)
    free[np.r_[canon.lip_loops[0], canon.lip_loops[1], canon.lip_bands[0],
               canon.lip_bands[1]]] = False
    folds = []
    for inner_corner, outer_corner in zip(canon.mouth_corners, canon.outer_mouth_corners):
        span = float(np.linalg.norm(p[inner_corner] - p[outer_corner]))
        inwards = (p[:, 0] - p[outer_corner, 0]) * np.sign(p[inner_corner, 0]
                                                           - p[outer_corner, 0]) > 0
        near = np.linalg.norm(p - p[outer_corner], axis=1) < CORNER_REACH * span
        folds.append(np.flatnonzero(free & inwards & near))
    return folds[0], folds[1]


def _keep_corners(points: np.ndarray, source: np.ndarray) -> None:
    """Move (in place) the landmarks in each mouth corner (:func:`corner_folds`) as the lips'
    contours around them move: each by its nearest contour landmarks' moves, weighted by
    closeness in ``source``. Left to the driver's own landmarks there, which a detector
    places loosely in a corner's fold, they crossed the lips' outer contour (s42 driven by d8:
    the skin's triangles folded over the lower lip's end, a bright stair-stepped notch)."""
    canon = canonical_face()
    contours = np.r_[canon.lip_loops[0], canon.lip_loops[1]]
    moved = points[contours, :2] - source[contours, :2]
    for members in corner_folds():
        d2 = ((source[members, None, :2] - source[None, contours, :2]) ** 2).sum(axis=2)
        nearest = np.argsort(d2, axis=1)[:, :CORNER_NEIGHBOURS]
        w = 1.0 / np.maximum(np.take_along_axis(d2, nearest, axis=1), 1e-12)
        points[members, :2] = source[members, :2] \
            + (w[..., None] * moved[nearest]).sum(axis=1) / w.sum(axis=1, keepdims=True)


def _keep_thickness(points: np.ndarray, source: np.ndarray, inner: np.ndarray,
                    outer: np.ndarray, keep: float) -> None:
    """Push the lip's ``outer`` contour (in place) away from its ``inner`` one wherever the
    lip has become thinner than ``keep`` of the source's."""
    x = canonical_face().points[outer, 0]  # where each lies along the lip
    thickness = source[outer, 1] - _along(source, inner, x)  # signed: the upper lip's < 0
    now = points[outer, 1] - _along(points, inner, x)
    wanted = np.sign(thickness) * np.maximum(np.abs(now), keep * np.abs(thickness))
    points[outer, 1] += (wanted - now) * (np.abs(thickness) > 1e-9)


def _within_band(points: np.ndarray, source: np.ndarray, inner: np.ndarray,
                 outer: np.ndarray, band: np.ndarray) -> None:
    """Place (in place) the band's landmarks between its contours (``inner``, ``outer``) where
    they lay between them in ``source``: as far across the lip, and as far along it against
    the lip's thickness there. A driver's own landmarks inside its lips, added to a thinner
    lip, landed in the opening (the upper lip's middle rows below its inner contour on s7,
    a cartoon's thin lips driven by the screaming d19): the mesh folded there, and opening
    the fold pulled the lip's outer contour down to its inner one at its middle and up into
    two horns beside it."""
    members = band[~np.isin(band, np.r_[inner, outer])]
    x = canonical_face().points[members, 0]
    frames = []
    for xy in (source, points):
        start = np.c_[_along(xy, inner, x, 0), _along(xy, inner, x, 1)]
        across = np.c_[_along(xy, outer, x, 0), _along(xy, outer, x, 1)] - start
        frames.append((start, across, np.c_[-across[:, 1], across[:, 0]]))
    (start, across, normal), (start_t, across_t, normal_t) = frames
    size = np.maximum((across ** 2).sum(axis=1), 1e-12)
    offset = source[members, :2] - start
    a, b = (offset * across).sum(axis=1) / size, (offset * normal).sum(axis=1) / size
    points[members, :2] = start_t + a[:, None] * across_t + b[:, None] * normal_t


def _along(points: np.ndarray, members: np.ndarray, x: np.ndarray, axis: int = 1
           ) -> np.ndarray:
    """Heights (or, ``axis`` 0, widths) in ``points`` of the curve through ``members`` at
    ``x``, positions along the lip as the canonical face has them."""
    order = np.argsort(canonical_face().points[members, 0])
    return np.interp(x, canonical_face().points[members[order], 0],
                     points[members[order], axis])
