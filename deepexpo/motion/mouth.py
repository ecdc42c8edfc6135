"""An opening mouth as a 2D warp can show it: lips that keep their thickness, a jaw that carries
the chin along, and an opening no wider than a mouth opens.

A driver's landmarks describe *its* lips: added to a source whose lips are fuller, a wide opening
moves the inner lower lip down further than the outer one and stretches the lip thin; a source
video's own open mouth and the driver's change add up past anything a jaw does. So the target is
reshaped here: the opening is capped, each lip is a band that keeps at least its own thickness
(its outer edge pushed out with the inner one, the landmarks inside it between the two), the
landmarks in each corner move with its corners, and the skin below the mouth goes down at least
as far as the lower lip, so the chin moves with it instead of folding under it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from ..face.canonical import canonical_face
from .state import FaceMotion

#: A lip is never made thinner than this fraction of its own thickness.
KEEP_THICKNESS = 0.9
#: The skin below the mouth goes down at least this fraction of the lower lip's drop (times
#: how far it follows the jaw): enough that the lip never folds into the chin, short of
#: moving the chin as a rigid block (the skin between them stretches).
JAW_FOLLOW = 0.7
#: ... and the skin under the lip is squeezed by at most this fraction of its distance from
#: the lip's lower edge.
UNDER_LIP_SQUEEZE = 0.5
#: The landmarks in a mouth's corner that move with it lie within this many times the distance
#: between its outer and inner corner from the outer one.
CORNER_REACH = 2.5
#: ... and move as this many of the lips' contour landmarks nearest them do.
CORNER_NEIGHBOURS = 4


def shape_mouth(target: FaceMotion, source: FaceMotion, max_opening: float,
                max_jaw_drop: float) -> FaceMotion:
    """``target`` with its opening capped at ``max_opening`` (inner-lip gap over mouth width)
    and its jaw drop from ``source`` at ``max_jaw_drop`` (canonical units), its lips at least
    :data:`KEEP_THICKNESS` of their thickness in ``source``, and the skin below the mouth
    following the lower lip down."""
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
    outer = canon.lip_loops[0]
    corners_y = canon.points[canon.mouth_corners, 1].mean()
    upper_band, lower_band = canon.lip_bands
    # Each inner contour runs corner to corner: without the corners, a lip's last points
    # (beside the corner, beyond its inner landmarks) were measured against the inner lip's
    # next landmark, dropped with the jaw, and pushed below it: the lower lip's outer contour
    # went straight down the side of the opening instead of tapering into the corner.
    for inner, outer_part, band in (
            (upper, outer[canon.points[outer, 1] < corners_y], upper_band),
            (lower, outer[canon.points[outer, 1] > corners_y], lower_band)):
        edge = np.r_[canon.mouth_corners, inner]
        _keep_thickness(points, source.canonical, edge, np.intersect1d(outer_part, band))
        _within_band(points, source.canonical, edge, outer_part, band)
    _keep_corners(points, source.canonical)
    # The skin below the mouth goes down with the lower lip (JAW_FOLLOW), and near it
    # nearly as far: the skin just under the lip is squeezed at most by half, never passed
    # by the lip (a fold, whose edge the warp draws hard and stair-stepped).
    lip_drop = (points[canon.lower_lip, 1] - source.canonical[canon.lower_lip, 1]).mean()
    if lip_drop > 0:
        below = (jaw > 0) & ~np.isin(np.arange(len(points)),
                                     np.r_[upper_band, lower_band, outer])
        src = source.canonical[below]
        lip_edge = outer[canon.points[outer, 1] > corners_y]
        order = np.argsort(source.canonical[lip_edge, 0])
        under = src[:, 1] - np.interp(src[:, 0], source.canonical[lip_edge[order], 0],
                                      source.canonical[lip_edge[order], 1])
        follow = np.maximum(JAW_FOLLOW * lip_drop, lip_drop - UNDER_LIP_SQUEEZE * under)
        floor = src[:, 1] + jaw[below] * follow
        points[below, 1] = np.maximum(points[below, 1], floor)
    change = points - before
    if not change.any():
        return target
    return replace(target, canonical=points, expression=target.expression + change)


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
                    outer: np.ndarray) -> None:
    """Push the lip's ``outer`` contour (in place) away from its ``inner`` one wherever the
    lip has become thinner than :data:`KEEP_THICKNESS` of the source's."""
    x = canonical_face().points[outer, 0]  # where each lies along the lip
    thickness = source[outer, 1] - _along(source, inner, x)  # signed: the upper lip's < 0
    now = points[outer, 1] - _along(points, inner, x)
    wanted = np.sign(thickness) * np.maximum(np.abs(now), KEEP_THICKNESS * np.abs(thickness))
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
