"""Lips redrawn as bands of the source's own lips over an opened mouth.

A warp opening a mouth wide stretches the lips with the mesh around them: the lip between a
landmark and its neighbours becomes a streaky ring round the opening, its outer edge is
wherever the mesh folds (hard, and stair-stepped where the fold is sampled pixel by pixel). So
each lip is redrawn as a band laid along the target lip: smooth curves through its inner and
outer contours, each point across the band taken from the same place across the source's lip
(its own texture and edge, and a little skin beyond it; the target lip keeps about its
thickness, :func:`~deepexpo.motion.mouth.shape_mouth`), fading into the warp over a soft edge
outside and a narrower one at the opening, both scaled to the mouth; round an opening wide
enough, the upper lip's inner part shaded darker towards the opening, its wet inner surface
turning into the mouth (:class:`WetRim`). The bands of the two lips meet at the corners, both
read along the same line of the source there, the opening's edge running smoothly round each
corner from one lip to the other, rounded off inside the corners as a real open mouth's is,
into the crease where the lips meet; where a target lip stays much thicker into a corner
than the source's (a round opening), it is read further in, where the source's lip is thick
enough. They are read from the source with the dark fold in its corners, where its closed
lips met, filled in from the lips and skin around it (:func:`without_corner_folds`; a
detector puts a thin lip's contours in that fold), as the warp around them is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..face.canonical import canonical_face
from ..geometry.boxes import PixelBox
from ..geometry.ramps import smoothstep
from .mesh_warp import RESAMPLING, backward_map, map_area
from .texture import edge_blur, grain_at

if TYPE_CHECKING:
    from .moustache import Moustache

#: Output pixels between samples along a lip.
ALONG_PX = 1.5
#: Samples across a lip, inner to outer contour.
ACROSS = 8
#: The soft inner edge (where the lip meets the opening), either side of it: this fraction of
#: the outer edge's width, at least :data:`MIN_INNER_EDGE_PX` (the same look at any size).
INNER_EDGE = 0.5
MIN_INNER_EDGE_PX = 0.75
#: A lip is read magnified across at most this many times as much as its middle is.
MAX_STRETCH = 1.5
#: Hair over an upper lip (:class:`~deepexpo.render.moustache.Moustache`) is read this far
#: beyond the lip's inner contour (of its thickness): its strands hang over the opening.
HAIR_FRINGE = 0.5
#: A grid sheared this much is no set of rectangles (whose corners all lie on one circle):
#: its Delaunay triangles are the same in every cell.
_SHEAR = 0.3


def soft_inner_edge(edge_px: float) -> float:
    """How far (pixels) either side of a lip's inner contour it fades into the opening, for a
    lip fading over ``edge_px`` outside (:data:`INNER_EDGE`)."""
    return max(MIN_INNER_EDGE_PX, INNER_EDGE * edge_px)


def lip_contours(xy: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The upper and lower lip as (inner, outer) contours, each corner to corner with as
    many landmarks on each (point ``k`` of one faces point ``k`` of the other). (The outer
    corners lie a little above the inner ones: counted among the upper lip's too, its outer
    contour had them twice, stood still at each end for its first and last twelfth and
    was read a landmark behind its inner one into the corners, the band between them a
    fan from the outer corner whose edge cut the upper lip off diagonally short of the
    opening's end: the drawn s7 by d19.)"""
    canon = canonical_face()
    outer = canon.lip_loops[0]
    p = canon.points
    corners_y = p[canon.mouth_corners, 1].mean()
    outer_corners = outer[[np.argmin(p[outer, 0]), np.argmax(p[outer, 0])]]
    between = outer[~np.isin(outer, outer_corners)]
    contours = []
    for inner, side in ((canon.inner_lip_upper, between[p[between, 1] < corners_y]),
                        (canon.inner_lip_lower, between[p[between, 1] > corners_y])):
        inner = np.r_[canon.mouth_corners[0], inner[np.argsort(p[inner, 0])],
                      canon.mouth_corners[1]]
        side = np.r_[outer_corners[0], side[np.argsort(p[side, 0])], outer_corners[1]]
        contours.append((xy[inner, :2], xy[side, :2]))
    return contours


def opening_outline(xy: np.ndarray) -> np.ndarray:
    """The mouth's opening as the lips' bands edge it: the curves through the inner contours
    of both lips, rounded off in its corners (:func:`_corner_discs`), as a polygon (pixels)."""
    contours = lip_contours(xy)
    t = np.linspace(0.0, 1.0, int(np.clip(_length(contours[0][0]) / ALONG_PX, 16, 2000)))
    upper, lower = (_spline(contours[k][0], t, _round_corners(contours, k)) for k in range(2))
    outline = np.r_[upper, lower[::-1]]
    return _onto_discs(outline, _corner_discs(outline))


def _corner_discs(outline: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The discs inside an opening's ``outline`` (a polygon, pixels) that round off its
    corners: those of a fraction of the widest's radius (:data:`CORNER_ROUNDING`), as the
    edge of the region of their centres (pixels), their radius and the step they are found
    to (pixels).
    A detector puts a real open mouth's inner corners where its lips meet, and its dark
    opening rounds off short of them, inside the lips folding round its ends; drawn along
    the curves through its landmarks, the opening ran on into a point at each (a lens's tips
    opened by ``aaa``, Grace Hopper's and a cartoon's, s7). The outline rounded off by them
    (:func:`_onto_discs`) is rounded off by the same."""
    low = outline.min(axis=0) - 2.0
    extent = outline.max(axis=0) + 2.0 - low
    scale = min(ROUNDING_FINE, ROUNDING_MASK_PX / max(float(extent.max()), 1.0))
    size = np.ceil(extent * scale).astype(int)
    inside = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillPoly(inside, [np.round((outline - low) * scale).astype(np.int32)], 1)
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) / scale
    # (Not lips parted a little, which meet at their corners in a taper: the widest disc's
    # diameter over the opening's length.)
    centred = outline - outline.mean(axis=0)
    length = float(np.ptp(centred @ np.linalg.svd(centred, full_matrices=False)[2][0]))
    opened = 2.0 * float(depth.max()) / max(length, 1e-6)
    open_from, open_full = ROUNDED_OPENING
    rounding = float(np.interp(opened, ROUNDER_OPENED, CORNER_ROUNDING))
    radius = rounding * float(depth.max()) * float(
        smoothstep((opened - open_from) / (open_full - open_from)))
    centres = (depth >= max(radius, 1.0 / scale)).astype(np.uint8)
    rim = np.argwhere(centres > cv2.erode(centres, np.ones((3, 3), np.uint8)))
    return rim[:, ::-1] / scale + low, radius, 1.0 / scale


def _onto_discs(points: np.ndarray, discs: tuple[np.ndarray, float, float]) -> np.ndarray:
    """``points`` (pixels) on an opening's outline, those in its corners moved in onto the
    edge of the ``discs`` that round them off (:func:`_corner_discs`): each towards its
    nearest centre until it lies on that disc's edge. (Within a step of it, where the
    outline is not rounded off: left as it is.)"""
    centre, radius, step = discs
    if radius <= step or not len(centre):
        return points
    # (A few hundred points at a time: all against all, a big opening's took 100 MB.)
    nearest = np.concatenate([
        centre[np.argmin(((chunk[:, None] - centre[None]) ** 2).sum(axis=2), axis=1)]
        for chunk in np.array_split(points, max(1, len(points) // 256))])
    away = points - nearest
    far = np.linalg.norm(away, axis=1)
    beyond = np.maximum(far - radius - step, 0.0) / np.maximum(far, 1e-9)
    rounded: np.ndarray = points - beyond[:, None] * away
    return rounded


#: An opening's corners are rounded off by discs this fraction of the widest's radius inside
#: it (:func:`_corner_discs`), the first on openings opened as far as the first of
#: :data:`ROUNDER_OPENED` or less, the second on those opened as far as its second: a real
#: mouth's dark opening ends the rounder the taller it is against its length. Its height
#: 0.02 to 0.04 of the mouth's width in from its ends over its greatest (real mouths 0.19 to
#: 0.27) is the same drawn through their own landmarks rounded off by discs of 0.25 to 0.38
#: of the widest's radius on d3's and d12's frames opened 0.52 to 0.62, of 0.5 and 0.58 on
#: d12's and d19's opened 0.87 and 0.96 (by a fixed 0.35, d19's and d12's were drawn pointed,
#: 0.225 and 0.21 to their real 0.26; by 0.5, d3's and d12's less opened too round, 0.29 to
#: 0.32 to their real 0.19 to 0.27). Opened by ``aaa`` (0.43 to 0.69), 0.02, 0.04 and 0.07 of
#: the width in from the ends read 0.22, 0.31 and 0.43 on s1, s7, Grace Hopper and the
#: astronaut, as on the mean of the real mouths (0.2, 0.31, 0.43; drawn through the
#: landmarks, 0.14, 0.23, 0.36), ...
CORNER_ROUNDING = (0.35, 0.6)
#: ... how far an opening is opened (its widest disc's diameter over its length) for either.
ROUNDER_OPENED = (0.65, 1.0)
#: ... on an opening whose widest disc inside is this fraction of its length across, fully
#: from this one (the mouths opened by ``aaa``, 0.43 to 0.69, and the real ones above, 0.52
#: to 0.94): lips parted a little (d19.mp4's, 0.17 of the width, 0.2) keep the taper in
#: which they meet at their corners (rounded off, a thin opening's ends were drawn 0.035 of
#: the width in from its corners, the canonical face's opened 0.13, and dlib read s12's by
#: d19.mp4 0.06 open instead of 0.19), ...
ROUNDED_OPENING = (0.2, 0.4)
#: ... found on a mask this many times as fine as the picture, or as fine as makes it this
#: many pixels across (a big opening: each found on a mask 4 times as fine took 0.2 s).
ROUNDING_FINE, ROUNDING_MASK_PX = 4.0, 400.0


def _round_corners(contours: list[tuple[np.ndarray, np.ndarray]], lip: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Where the inner contour of lip ``lip`` (0 upper, 1 lower, of :func:`lip_contours`)
    runs on beyond the corners, for :func:`_spline`: to the other lip's inner landmarks
    next to them. The opening's outline runs on smoothly round each corner from one lip to
    the other, as a real open mouth's rounds into the crease where its lips meet; each lip
    left its corner towards its own next landmark, and the two met at a point (Grace Hopper
    by ``aaa``: an almond's tips)."""
    other = contours[1 - lip][0]
    return other[1], other[-2]


@dataclass(frozen=True)
class WetRim:
    """Lips' wet inner surface round an opening: the Lab ``colour`` it turns to at the
    opening's edge, how much of it ``shows`` (0 to 1: lips barely parted hide it) and how
    much of it shows where the lips meet in the corners (``creases``, 0 to 1:
    :func:`_draw_corner_creases`)."""

    colour: np.ndarray
    shows: float
    creases: float

    @property
    def rgb(self) -> np.ndarray:
        """Its colour in RGB, (1, 1, 3) floats."""
        return cv2.cvtColor(np.clip(self.colour, 0, 255).astype(np.uint8)[None, None],
                            cv2.COLOR_LAB2RGB).astype(np.float32)


def draw_lips(out: np.ndarray, image: np.ndarray, source_xy: np.ndarray,
              target_xy: np.ndarray, edge_px: float, rim: WetRim | None = None,
              hair: Moustache | None = None, opening: np.ndarray | None = None) -> None:
    """Redraw (in place) both lips of ``out`` as bands of ``image``'s lips (a source's with
    its corners' fold filled in: :func:`without_corner_folds`): from where ``source_xy`` has
    them to where ``target_xy`` does (landmarks, pixels), fading into ``out`` over
    ``edge_px`` beyond their outer contour; round an opening, with the upper lip's wet inner
    surface ``rim`` turning into the mouth (:func:`_wet`) and showing where they meet in its
    corners (:func:`_draw_corner_creases`). (The lower lip's inner surface faces up, into
    the light: real lower lips' inner third is as bright as their outer on the median, 1.1
    times, d19, d12 and d3 opened 0.45 to 1.0, their upper lips' 0.83; shaded as the upper
    one's, an opened lower lip's inner third was drawn dark into the opening, the lip a thin
    band under it: the astronaut's and Grace Hopper's by ``aaa``.) An upper lip under
    ``hair`` ends, over the opening, where the hair does (:func:`_draw_band`). ``opening``:
    the opening's outline (:func:`opening_outline` of ``target_xy``) where the caller has it
    already."""
    sources, targets = lip_contours(source_xy), lip_contours(target_xy)
    discs = _corner_discs(opening_outline(target_xy) if opening is None else opening)
    for lip, wet in ((0, rim), (1, None)):
        _draw_band(out, image, sources[lip], targets[lip],
                   (_round_corners(sources, lip), _round_corners(targets, lip)), discs,
                   max(1.0, edge_px), wet, hair if lip == 0 else None)
    if rim is not None and rim.creases > 0:
        # (From the opening's ends, rounded off inside the inner corners.)
        ends = _onto_discs(target_xy[canonical_face().mouth_corners, :2], discs)
        _draw_corner_creases(out, ends, target_xy, rim, soft_inner_edge(edge_px))


def _draw_band(out: np.ndarray, image: np.ndarray, source: tuple[np.ndarray, np.ndarray],
               target: tuple[np.ndarray, np.ndarray],
               corners: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
               discs: tuple[np.ndarray, float, float], edge_px: float, rim: WetRim | None,
               hair: Moustache | None = None) -> None:
    """Draw one lip's band (see :func:`draw_lips`). A lip under ``hair`` is drawn as far as
    the hair is, over the opening: read on :data:`HAIR_FRINGE` of its thickness beyond its
    inner contour, each pixel as opaque as it is hair (:meth:`Moustache.strands`), where a
    lip fades over its soft inner edge. The hair's lower edge is the opening's top, its
    strands in their own texture; faded as a lip's edge, it read the lower lip showing below
    the hair into a pale rim."""
    inner_t, outer_t = target
    length = max(_length(inner_t), _length(outer_t))
    n = int(np.clip(length / ALONG_PX, 16, 2000))
    t = np.linspace(0.0, 1.0, n)
    # (Its inner edge along the opening's outline, rounded off in the corners: the lip
    # folds round the opening's ends.)
    inner_t = _onto_discs(_spline(inner_t, t, corners[1]), discs)
    outer_t = _spline(outer_t, t)
    along, excess = _along_source(source, inner_t, outer_t, t, corners[0])
    thick = np.maximum(np.linalg.norm(outer_t - inner_t, axis=1), 1e-3)[None, :]
    # Across the lip (0 at its inner contour, 1 at its outer), per sample along it: half a
    # pixel into the opening, the lip, and the soft edge beyond it; where the target lip is
    # thicker than the source's could be read, wider by as much.
    inner_edge = soft_inner_edge(edge_px)
    outer_edge = edge_px + excess[None, :]
    fringe = () if hair is None else (np.full_like(thick, -HAIR_FRINGE),)
    rows = np.concatenate([*fringe, -inner_edge / thick,
                           *(np.full_like(thick, k / (ACROSS - 1)) for k in range(ACROSS)),
                           1.0 + 0.5 * outer_edge / thick, 1.0 + outer_edge / thick])
    across = rows[..., None]
    dst = inner_t + across * (outer_t - inner_t)  # (rows, n, 2)
    # (Where the lip is held at one place of the source's, also read at a few inwards from
    # it, each pixel the median of them: :func:`_held_spread`.)
    reads = [_read_across(source, corners[0], a, across)
             for a in _held_spread(along, t, _length(source[1]))]
    # The soft inner edge across the inner contour, not along the line to the outer one:
    # into a corner that line runs nearly along the opening's edge, and faded along it the
    # edge was hard, a stair-stepped point (Grace Hopper by aaa); there, the lip thin across
    # it, the opening shows through it a little, as the fold where lips meet.
    lip_side, deep = _across_inner(inner_t, outer_t)
    dst[len(fringe)] = inner_t - inner_edge * lip_side
    if fringe:
        dst[0] = inner_t - HAIR_FRINGE * deep.T * lip_side
    # How much of the band shows: faded at the opening and beyond the outer contour, and
    # that edge faded out into each corner over its own width. (Not the lip at the corners:
    # the two lips' bands meet there. At each end the edge ran on along the corner's line,
    # beyond the corner, where the two bands' edges met, drawing what lies along that line
    # beyond the source's corner as a short streak: a crease continuing s1's corners by d19.)
    inside = rows * deep  # pixels from it
    inside[len(fringe)] = -inner_edge
    run = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(outer_t, axis=0), axis=1))]
    into = np.minimum(run, run[-1] - run)[None, :]  # pixels along the lip from its corners
    beyond = np.clip(1.0 - (rows - 1.0) * thick / outer_edge, 0.0, 1.0)
    ends = np.where(rows > 1.0, np.clip(into / outer_edge, 0.0, 1.0), 1.0)
    alpha = np.clip(0.5 + inside / (2 * inner_edge), 0.0, 1.0) * beyond * ends
    box = PixelBox.around(dst.reshape(-1, 2), out.shape[:2], 2)
    h, w = box.size
    if h < 2 or w < 2:
        return
    # Each output pixel's place on the band (row, sample), by the piecewise-linear map from
    # the band's grid to its target positions.
    i, j = np.mgrid[0:len(rows), 0:n].astype(np.float64)
    grid = np.c_[(j + _SHEAR * i).ravel(), i.ravel()]
    place = backward_map(grid, dst.reshape(-1, 2), box, 1.0)
    row = place[..., 1]
    sample = (place[..., 0] - _SHEAR * row).astype(np.float32)
    row = row.astype(np.float32)
    # (Outside the band the map is the identity.)
    covered = polygon_mask(np.r_[dst[0], dst[-1][::-1]] - [box.x0, box.y0], (h, w))
    # (With the hair's fringe, also how much shows but for the lip's soft inner edge.)
    values = np.dstack([alpha[..., None], across,
                        *((beyond * ends)[..., None] for _ in fringe)]).astype(np.float32)
    at = cv2.remap(values, sample, row, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lip_reads = [_read_on_band(image, places, sample, row) for places in reads]
    lip = lip_reads[0] if len(lip_reads) == 1 else np.median(np.stack(lip_reads), axis=0)
    if rim is not None:
        lip = _wet(lip, at[..., 1], rim)
    weight = at[..., 0] * covered
    if hair is not None:
        strands, opacity = hair.strands(lip)
        hairy = hair.covers * opacity * at[..., 2] * covered
        weight = hairy + (1.0 - hair.covers) * weight
        lip = (hairy[..., None] * strands + (weight - hairy)[..., None] * lip) \
            / np.maximum(weight, 1e-6)[..., None]
    weight = weight[..., None]
    view = out[box.slices]
    view[:] = np.clip(weight * lip + (1 - weight) * view, 0, 255).astype(np.uint8)


def _read_on_band(image: np.ndarray, places: np.ndarray, sample: np.ndarray,
                  row: np.ndarray) -> np.ndarray:
    """``image`` read at ``places`` (where the source is read at each point of a band's grid,
    pixels) for each output pixel at its place on the band (``sample``, ``row``: see
    :func:`_draw_band`): the places interpolated linearly between the grid's points, the
    image resampled as the warp around it is. (Bilinear weights, at a fraction of a pixel,
    averaged the lip's fine detail away, 0.7 of it kept half a pixel over, and s42's lower
    lip by d19 came out blurred.)"""
    at = cv2.remap(places.astype(np.float32), sample, row, cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_REPLICATE)
    return cv2.remap(image, at[..., 0], at[..., 1], RESAMPLING,
                     borderMode=cv2.BORDER_REFLECT).astype(np.float32)


def _draw_corner_creases(out: np.ndarray, ends: np.ndarray, xy: np.ndarray, rim: WetRim,
                         width_px: float) -> None:
    """Draw (in place) the crease in each corner of an open mouth (landmarks ``xy``, pixels)
    where its lips meet, from the opening's ``ends`` (pixels, one by each corner) to the
    lips' outer corner: their wet inner surfaces pressed together (``rim``), as dark as they
    are at the opening, fading out by a smooth step towards the outer corner, across it a
    Gaussian line of sigma ``width_px`` (the lips' soft inner edge); only darkening. A real
    open mouth's opening rounds into such a crease (d19's: 0.8 to 0.9 of its lips'
    lightness 2 px out from the opening's end); the lips' bands, read from the source with
    its corners' fold filled in (:func:`without_corner_folds`), met there in the lips'
    colour, and the opening ended in a bare point (Grace Hopper by ``aaa`` and by d19)."""
    inner, outer = ends, xy[canonical_face().outer_mouth_corners, :2]
    box = PixelBox.around(np.r_[inner, outer], out.shape[:2], 3 * width_px + 2)
    h, w = box.size
    if h < 2 or w < 2:
        return
    ys, xs = np.mgrid[box.y0:box.y1, box.x0:box.x1].astype(np.float32)
    crease = np.zeros((h, w), np.float32)
    for start, run in zip(inner, outer - inner):
        along = np.clip(((xs - start[0]) * run[0] + (ys - start[1]) * run[1])
                        / max(float(run @ run), 1e-6), 0.0, 1.0)
        off = np.hypot(xs - start[0] - along * run[0], ys - start[1] - along * run[1])
        crease = np.maximum(crease, np.exp(-0.5 * (off / width_px) ** 2)
                            * (1.0 - smoothstep(along)))
    view = out[box.slices]
    darker = np.minimum(rim.rgb - view, 0.0)
    view[:] = np.clip(view + rim.creases * crease[..., None] * darker + 0.5, 0, 255
                      ).astype(np.uint8)


def _across_inner(inner: np.ndarray, outer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample along a lip's ``inner`` contour (pixels, (n, 2), with its ``outer`` one
    sampled alike): the unit normal to it towards the lip, and the lip's thickness along it
    ((1, n), at least :data:`MIN_INNER_EDGE_PX` of a tenth)."""
    tangent = _unit(np.gradient(inner, axis=0))
    normal = np.c_[-tangent[:, 1], tangent[:, 0]]
    depth = ((outer - inner) * normal).sum(axis=1)
    normal *= np.where(np.median(depth) < 0, -1.0, 1.0)
    return normal, np.maximum(np.abs(depth), 0.1 * MIN_INNER_EDGE_PX)[None, :]


def _wet(lip: np.ndarray, across: np.ndarray, rim: WetRim) -> np.ndarray:
    """RGB ``lip`` (drawn ``across`` it: 0 at its inner contour, 1 at its outer) shaded as
    its wet inner surface ``rim``, which turns into the mouth: towards its colour at the
    opening, fading out :data:`RIM_REACH` of the way across by a smooth step (no edge of its
    own); only as far as the lip is brighter than that colour (by :data:`RIM_SOFT` of its
    brightness): a photo's lips that show their darker inner edge keep theirs."""
    colour = rim.rgb
    light = cv2.cvtColor(np.clip(lip, 0, 255).astype(np.uint8),
                         cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    dark = float(rim.colour[0])
    weight = rim.shows * (1.0 - smoothstep(across / RIM_REACH)) \
        * np.clip((light - dark) / (RIM_SOFT * dark + 1.0), 0.0, 1.0)
    return lip + weight[..., None] * (colour - lip)


#: A lip's wet inner surface shows this fraction of the way across it (:func:`_wet`) ...
RIM_REACH = 0.3
#: ... fully where the lip is brighter than it by this fraction of its brightness.
RIM_SOFT = 0.15


def without_corner_folds(image: np.ndarray, xy: np.ndarray, hair: Moustache | None = None
                         ) -> np.ndarray:
    """``image`` with the dark fold in its mouth's corners (landmarks ``xy``) filled in from
    the lips and skin around it: its pixels within :data:`FOLD_REACH` of the mouth's width of
    an outer corner, inside the lips' outer contour or beyond it by :data:`FOLD_BEYOND` of
    that, and darker than :data:`FOLD_DARK` of the lips' median lightness (or, beyond the lips
    along a corner's line, than :data:`FOLD_LINE` of the skin either side, on to the line's
    end). The fold is where closed lips meet; opened, they meet at the opening, and an opened
    mouth, its warp and its redrawn lips, is drawn from this. A landmark detector puts a thin
    lip's contours at a corner in the fold (s42: the upper lip's, from its inner contour at
    the corner to its outer one a few pixels in, and 3 pixels beyond the outer corner): a
    round opening, which keeps its lips thick into its corners, drew it, read across the lip
    there, as a soft dark spot beside each corner (s42 and s1 driven by d19); the lips' ends,
    read along it, and the warp, stretching its tip, drew it as a dark tail beyond an
    opening's corner (s42 by aaa). Above the corners' line of an upper lip under ``hair``, the
    dark is the hair, no fold (filled in, s12's moustache was a lip-coloured rim round the top
    of an opening)."""
    canon = canonical_face()
    outer, inner = (xy[loop, :2] for loop in canon.lip_loops)
    corners = xy[canon.outer_mouth_corners, :2]
    reach = FOLD_REACH * float(np.linalg.norm(corners[1] - corners[0]))
    box = PixelBox.around(np.r_[outer - reach, outer + reach], image.shape[:2], 2)
    h, w = box.size
    if h < 2 or w < 2:
        return image
    offset = np.array([box.x0, box.y0])
    patch = image[box.slices]
    light = patch.astype(np.float32).mean(axis=-1)
    lips = polygon_mask(outer - offset, (h, w)) > 0.5
    # (The upper lip and the lower, not between them.)
    each = [polygon_mask(np.r_[lip_in, lip_out[::-1]] - offset, (h, w)) > 0.5
            for lip_in, lip_out in lip_contours(xy)]
    red = each[0] | each[1]
    lit = float(np.median(light[red])) if red.any() else 0.0
    ys, xs = np.mgrid[:h, :w]
    grow = 2 * max(1, int(round(FOLD_GROW * reach / FOLD_REACH))) + 1
    # Beyond the lips, the closed lips' line where it runs on past a corner, however light:
    # darker than the skin either side of it, along the corner's line (a drawing's line is
    # lighter than its lips: s7's ends were held with the corners and stayed beside a
    # narrowed opening as two creases; not the skin's texture around: a painting's cracks).
    closed = cv2.morphologyEx(light, cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    near = np.zeros((h, w), bool)
    for x, y in corners - offset:
        near |= (xs - x) ** 2 + (ys - y) ** 2 < reach * reach
    beside = cv2.distanceTransform((~lips).astype(np.uint8), cv2.DIST_L2, 3) \
        <= FOLD_BEYOND * reach
    dark = near & beside & (light < FOLD_DARK * lit)
    if hair is not None:
        run = corners[1] - corners[0]
        dark &= (xs + box.x0 - corners[0, 0]) * run[1] \
            <= (ys + box.y0 - corners[0, 1]) * run[0]  # on or below the corners' line
    dark = dark.astype(np.uint8)
    # The line on to its end, all of it that runs on from its part beside the lips (cut off
    # there, its end, carried with the corner as the rest of the mouth's shape is, was left
    # on the cheek a few pixels beside the opening as a short dark line over a pale notch:
    # the drawn s7's ran 11 px past MediaPipe's corner into a dimple), up to where it meets
    # a crease running off its line (Hopper's wrinkle beside her corner, cut through).
    creases = near & ~lips & (light < FOLD_LINE * closed)
    _, parts = cv2.connectedComponents(creases.astype(np.uint8))
    thin = np.zeros((h, w), bool)
    for (x, y), u in zip(corners - offset, _unit(corners - corners[::-1])):
        along = (xs - x) * u[0] + (ys - y) * u[1]
        line = creases & (along > -grow / 2) \
            & (np.abs((ys - y) * u[0] - (xs - x) * u[1]) < grow / 2)
        run = np.isin(parts, parts[line & beside])
        off = run & ~line & ~beside & (along > 0)
        thin |= line & (beside | (run & (along < (along[off].min() if off.any() else np.inf))))
    thin = thin.astype(np.uint8)
    if not (dark.any() or thin.any()):
        return image
    # (The line grown by half as much: it has no dark shade around, and the fill, smooth,
    # wiped a painting's cracks round s10's corner.)
    fold = cv2.dilate(dark, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))) \
        | cv2.dilate(thin, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow // 2 | 1,) * 2))
    # Each side filled in over the fold from its own pixels alone, the lips' from the lips
    # (not the opening between them) and the skin's from the skin (filled from both, s1's
    # upper lip's end, her fold large, was drawn in skin colour), the two mixed across the
    # lips' contour as softly as the photo's edges are there (split at it, the fill drew a
    # hard, stair-stepped edge at the lip's end, which a round opening's corner magnified: s1
    # by d19), fading into the pixels around over half the fold's growth beyond it (cut off
    # at its edge, the fold's shade beyond was a rim round it).
    filled_in = np.clip(1.0 - cv2.distanceTransform(1 - fold, cv2.DIST_L2, 3) / (grow / 2),
                        0.0, 1.0)
    folded = filled_in > 0
    lip_side = cv2.GaussianBlur(lips.astype(np.float32), (0, 0),
                                max(edge_blur(image, box), 0.5))
    # Each lip from its own pixels: a lip's thin end, filled in from both, took the other's
    # colour (the drawn s7's orange upper lip's left end took his lit lower lip's pale one
    # and, screamed, was drawn pale down the side of his opening). Between them, the nearer
    # one's, mixed over the fill's own reach (split where they meet, the two lips' ends
    # met in a step at the corner of his opening).
    apart = [cv2.distanceTransform((~lip).astype(np.uint8), cv2.DIST_L2, 3) for lip in each]
    upper_side = np.clip(0.5 + (apart[1] - apart[0]) / (grow / 2), 0.0, 1.0)
    filled = patch.astype(np.float32)
    pad = int(np.ceil(reach + 3 * grow))
    for x, y in np.round(corners - offset).astype(int):
        around = (slice(max(y - pad, 0), y + pad + 1), slice(max(x - pad, 0), x + pad + 1))
        upper, lower, skin = (filled[around].copy() for _ in range(3))
        for colour, side in ((upper, each[0][around]), (lower, each[1][around]),
                             (skin, ~lips[around])):
            _fill_in(colour, side & ~folded[around], folded[around], grow / 2)
        lip = lower + upper_side[around][..., None] * (upper - lower)
        filled[around] += filled_in[around][..., None] \
            * (skin + lip_side[around][..., None] * (lip - skin) - filled[around])
    # With the picture's grain laid back on, read as far beyond the fill's edge as each pixel
    # lies within it, across the nearest pixel left as it was (mirrored there: no seam): the
    # fill alone, smooth, was a pale streak beside s10's corner, none of the painting's
    # crackle around it. (Its finest detail alone, no mottling: see FOLD_GRAIN_LIMIT.)
    _, nearest = cv2.distanceTransformWithLabels(folded.astype(np.uint8), cv2.DIST_L2, 3,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
    kept = np.flatnonzero(~folded.ravel())
    if kept.size:
        kept_y, kept_x = np.unravel_index(kept[nearest[folded] - 1], (h, w))
        grain = grain_at(image, (2 * kept_x - xs[folded] + box.x0)[None].astype(np.float32),
                         (2 * kept_y - ys[folded] + box.y0)[None].astype(np.float32), 0.0,
                         FOLD_GRAIN_LIMIT)
        filled[folded] += filled_in[folded][:, None] * grain[0]
    unfolded = image.copy()
    unfolded[box.slices] = np.clip(filled + 0.5, 0, 255).astype(image.dtype)
    return unfolded


def _fill_in(colour: np.ndarray, known: np.ndarray, todo: np.ndarray, sigma: float) -> None:
    """Fill (in place) ``colour``'s ``todo`` pixels each with the mean of the ``known`` ones
    around it, weighted by a Gaussian of ``sigma`` pixels, doubled where they weigh under
    :data:`FOLD_FILL_WEIGHT` of it; once it is as wide as the picture, whatever they weigh.
    (A few known pixels weigh under that even so, a lip's end by its corner: left as they
    were, the dark fold by s1's left corner was kept where it was filled from her upper lip.)"""
    weights = known.astype(np.float32)
    while todo.any() and known.any():
        last = sigma >= max(todo.shape)
        weight = cv2.GaussianBlur(weights, (0, 0), sigma)
        ready = todo & (weight > (1e-6 if last else FOLD_FILL_WEIGHT))
        mean = cv2.GaussianBlur(colour * weights[..., None], (0, 0), sigma)
        colour[ready] = mean[ready] / weight[ready, None]
        todo = todo & ~ready
        if last:
            break
        sigma *= 2.0


#: A mouth's corners' fold: its pixels darker than this fraction of the lips' median
#: lightness, within this fraction of the mouth's width of an outer corner, ...
FOLD_DARK, FOLD_REACH = 0.5, 0.2
#: ... inside the lips' outer contour or beyond it by this fraction of that reach (its tip,
#: not the hair around: as far as the reach, the ends of s12's moustache by its corners were
#: filled in, greyed, where the warp reads it), ...
FOLD_BEYOND = 0.25
#: ... or, beyond the lips, darker than this fraction of the skin either side of it, ...
FOLD_LINE = 0.9
#: ... and as far from them as this fraction of its width (their edge's shade), ...
FOLD_GROW = 0.03
#: ... filled in from the pixels of its side around it as near as weigh this much (of a
#: Gaussian's whole) together.
FOLD_FILL_WEIGHT = 0.05
#: The grain laid on the fill (its detail finer than the grain's blur alone): at most this
#: many times its robust spread (a highlight's speck beside s10's corner, mirrored into the
#: fill with its mottling, or at up to 3 times, was a second, paler speck).
FOLD_GRAIN_LIMIT = 2.0


def _along_source(source: tuple[np.ndarray, np.ndarray], inner_t: np.ndarray,
                  outer_t: np.ndarray, t: np.ndarray,
                  corners: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Where along the source's lip (its curves' parameter) each of the target's samples
    ``t`` is read: at ``t``, but where the target lip is more than :data:`MAX_STRETCH` times
    as thick, against the source's there, as its middle is, at the nearest place towards the
    middle where the source's is thick enough. A round opening keeps its lips thick into its
    corners, where the source's taper to the dark fold between them: read at ``t``, the fold
    was smeared across the target's thick corner into a dark wedge. With how much thicker
    (pixels) the target lip is at ``t`` than that."""
    fine = np.linspace(0.0, 1.0, 4 * len(t))
    thick_s = np.linalg.norm(_spline(source[1], fine) - _spline(source[0], fine, corners),
                             axis=1)
    thick_t = np.linalg.norm(outer_t - inner_t, axis=1)
    stretch = thick_t / np.maximum(np.interp(t, fine, thick_s), 1e-3)
    n = len(t)
    middle = max(float(np.median(stretch[n // 4:max(n // 4 + 1, 3 * n // 4)])), 1e-6)
    need = thick_t / (MAX_STRETCH * middle)
    excess = np.maximum(thick_t - MAX_STRETCH * middle * np.interp(t, fine, thick_s), 0.0)
    along = t.copy()
    for half, ends in ((t <= 0.5, fine <= 0.5), (t > 0.5, fine > 0.5)):
        # From this half's corner inwards: the thickest the source's lip has been so far,
        # and the first place it is as thick as needed.
        inwards = slice(None) if half[0] else slice(None, None, -1)
        places, reached = fine[ends][inwards], np.maximum.accumulate(thick_s[ends][inwards])
        first = places[np.minimum(np.searchsorted(reached, need[half]), len(places) - 1)]
        along[half] = np.maximum(t[half], first) if half[0] else np.minimum(t[half], first)
    # Never back along the lip, each half on its own side.
    left = t <= 0.5
    along[left] = np.maximum.accumulate(along[left])
    along[~left] = np.minimum.accumulate(along[~left][::-1])[::-1]
    return along, excess


#: Where a lip is held at one place of the source's (:func:`_along_source`), it is read at
#: this many places, this far apart (source pixels along the lip) inwards from it, each
#: pixel the median of them: read at one, a speck there (s10's highlight on her lower lip's
#: edge by its corner, 5 px across, d0 smiling) was drawn out along the held stretch into a
#: white streak, 24 px long.
HELD_READS, HELD_READ_STEP_PX = 5, 3.0


def _held_spread(along: np.ndarray, t: np.ndarray, length: float) -> list[np.ndarray]:
    """The places along the source's lip (``length`` pixels) each of the target's samples
    ``t`` is read at: ``along`` (:func:`_along_source`), and where that is held short of
    ``t``, :data:`HELD_READS` - 1 more inwards from it (each half's towards the middle),
    :data:`HELD_READ_STEP_PX` apart; only ``along`` where nothing is held."""
    held = along != t
    if not held.any():
        return [along]
    inwards = np.where(t <= 0.5, 1.0, -1.0) * held * HELD_READ_STEP_PX / max(length, 1e-6)
    return [np.clip(along + k * inwards, 0.0, 1.0) for k in range(HELD_READS)]


def _read_across(source: tuple[np.ndarray, np.ndarray], corner: tuple[np.ndarray, np.ndarray],
                 along: np.ndarray, across: np.ndarray) -> np.ndarray:
    """Where the source's lip (inner, outer contour; rounded ``corner``) is read at each
    place ``along`` it and ``across`` it (0 at its inner contour, 1 at its outer)."""
    inner = _spline(source[0], along, corner)
    return inner + across * (_spline(source[1], along) - inner)


#: Lips parted a little: the shaded edge read beyond each lip's landmarks widens along the lip
#: by at most this many pixels per pixel (:func:`from_dark_line`).
SHADE_SLOPE = 0.2

#: Closed lips (their inner landmarks less than this fraction of the lip's thickness apart)
#: meet on a dark line a detector may put both lips' landmarks on one side of: each lip's
#: is sought as far as ``SEAM_REACH`` of its thickness out of it, past its partner's
#: (:func:`dark_line`). MediaPipe puts the drawn s7's inner lips 3.8 px, 0.2 of her lower
#: lip, below hers, on her lower lip's deep orange top edge; sought no further than halfway
#: to the partner (0.5 px), the line was never found, and her lower lip, read from 0.2 of
#: it inside its landmark, was drawn without that edge, pale. (Lips parted a little, s1's
#: and s42's, 0.25 of it apart or more, are sought as before: halfway.)
CLOSED_GAP, SEAM_REACH = 0.1, 0.3


def from_dark_line(image: np.ndarray, source_xy: np.ndarray, lips_from: np.ndarray,
                   target_xy: np.ndarray, soft_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Where lips parted a little are read from and drawn to (``lips_from`` and
    ``target_xy`` with their inner lips moved): each lip's inner edge, taken into it from its
    landmark (``lips_from``, off the dark line where closed lips meet), taken as much further
    out as the dark line between the lips lies beyond the landmark in ``source_xy``
    (:func:`dark_line`), and drawn as much further into the opening, scaled as the lip is:
    the landmarks of lips parted a little mark their lit edges, and an inset measured from
    them dropped the painting s10's deep red top of its lower lip (a fifth of the lip; its
    lit, paler rest, drawn over the whole band, read 0.6 of its thickness). Less towards the
    corners, none at them (the corners' drawing is their own: a lip thicker into a corner
    is read off the fold there). Each lip's edge goes at most halfway across the opening.
    Closed lips' line is sought on either side of their landmarks (:data:`CLOSED_GAP`), and
    each lip read from as far beyond it as the inset less how far its landmark lies off it,
    but no nearer than its soft inner edge reaches (``soft_px``, :func:`soft_inner_edge`,
    drawn as the lip is), and drawn to its landmark: the drawn s7's lower lip, its landmarks
    4 px under the line, read from 0.2 of its thickness under them, lost its deep orange top
    edge; read from the line, it had the line round the opening as a dark red rim."""
    canon = canonical_face()
    outer = canon.lip_loops[0]
    corners_y = canon.points[canon.mouth_corners, 1].mean()
    upper, lower = canon.inner_lip_upper, canon.inner_lip_lower
    taper = np.minimum(2 * np.sin(np.pi * np.arange(1, len(upper) + 1) / (len(upper) + 1)), 1.0)
    read, drawn = lips_from.copy(), target_xy.copy()
    for inner, partner, side in ((upper, lower, outer[canon.points[outer, 1] < corners_y]),
                                 (lower, upper, outer[canon.points[outer, 1] > corners_y])):
        nearest = side[np.abs(source_xy[inner, None, 0]
                              - source_xy[None, side, 0]).argmin(axis=1)]
        across = source_xy[nearest, :2] - source_xy[inner, :2]
        thick = np.linalg.norm(across, axis=1)
        scale = np.linalg.norm(target_xy[nearest, :2] - target_xy[inner, :2], axis=1) \
            / np.maximum(thick, 1e-6)
        meet = np.linalg.norm(source_xy[partner, :2] - source_xy[inner, :2], axis=1) \
            < CLOSED_GAP * thick
        closed = (np.where(meet, SEAM_REACH * thick, 0.0), -_unit(across))
        beyond = _gradual(taper * dark_line(image, source_xy[inner, :2], source_xy[partner, :2],
                                            closed), source_xy[inner, :2])
        # A closed lip's landmark off the line, inside its lip, has left as much of the line
        # behind as it lies beyond it: the inset into the lip (``lips_from``, there to leave
        # the line) is kept only as far as it has not, and as far as the lip's soft inner
        # edge reads beyond its inner contour: the lip is read from beside the line, the
        # edge fading out on it. (Read from the line, s7's lower lip was drawn from its
        # darkest red, the edge's fade over the opening from the line and the upper lip
        # beyond: the line drawn round the opening, a dark red rim.)
        inset = np.linalg.norm(lips_from[inner, :2] - source_xy[inner, :2], axis=1)
        beside = soft_px / np.maximum(scale, 1e-6)
        behind = np.where(meet, np.clip(inset - beside, 0.0, beyond), 0.0)
        read[inner, :2] -= (beyond + behind)[:, None] * _unit(across)
        towards = target_xy[partner, :2] - target_xy[inner, :2]
        # Closed lips' edges are drawn at their landmarks: the band between a landmark and
        # the line beyond it is its partner's, drawn to its own landmark, beside; both lips
        # drawn over it (Hopper's lower lip up to 3 px into the opening, the darkest line over
        # her landmarks being her upper lip's shaded lower edge), her opened mouth was drawn
        # smaller and lower, and MediaPipe read her smile's lift on it less (its correlation
        # with a reference clip's smile 0.79; 0.84 drawn at the landmarks).
        extra = np.where(meet, 0.0,
                         np.minimum(beyond * scale, 0.5 * np.linalg.norm(towards, axis=1)))
        drawn[inner, :2] += extra[:, None] * _unit(towards)
    return read, drawn


def _gradual(beyond: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``beyond`` (pixels, one per inner-lip landmark ``inner``, in order along the lip) held
    to widen by at most :data:`SHADE_SLOPE` of a pixel per pixel along the lip from any other
    landmark's: a lip's shaded edge is a band whose width changes gradually, but the dark line
    read at each landmark steps where the gap under it turns from dark to teeth (s10: 4.5 px
    below her upper lip's middle landmark, 0 beside it over her teeth), and drawn so, the
    opening's top edge dipped at the step."""
    along = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(inner, axis=0), axis=1))]
    return (beyond[None, :] + SHADE_SLOPE * np.abs(along[:, None] - along[None, :])).min(axis=1)


def _unit(v: np.ndarray) -> np.ndarray:
    """Each row of ``v`` over its length."""
    return v / np.maximum(np.linalg.norm(v, axis=1), 1e-6)[:, None]


def dark_line(image: np.ndarray, inner: np.ndarray, partner: np.ndarray,
              closed: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """How far (pixels, (n,)) from each inner-lip landmark ``inner`` (pixels, (n, 2)) towards
    its partner on the other lip ``partner`` the darkest line between the lips lies, no further
    than halfway: closed lips meet on a dark line, on which a detector puts both (0); on lips
    parted a little it marks each lip's lit edge, and the lip's shaded edge (a painting's deep
    red) lies beyond, towards the dark gap between them (s10: up to 6.5 px beyond its lower
    lip's). ``closed``: how far (pixels, (n,)) beyond each landmark, and which way (unit
    vectors, (n, 2): out of its lip), the line is sought where that is further than halfway:
    a detector may put both lips' landmarks on one side of the line (:data:`SEAM_REACH`),
    where the way to the partner, a pixel or less away, is no way across the lips."""
    half = 0.5 * np.linalg.norm(partner - inner, axis=1)
    unit = (partner - inner) / np.maximum(2 * half, 1e-6)[:, None]
    ahead = half
    if closed is not None:
        seam, away = closed
        unit = np.where((seam > half)[:, None], away, unit)
        ahead = np.maximum(half, seam)
    # (Only the lips' box, as far out as the line is sought, is turned grey: the whole
    # picture, on every frame of a video, took longer than the rest of the mouth's drawing.)
    box = PixelBox.around(np.r_[inner, partner], image.shape[:2],
                          2 + int(np.ceil(ahead.max(initial=0.0))))
    crop = image[box.slices]
    gray = (crop.mean(axis=2) if crop.ndim == 3 else crop).astype(np.float32)
    h, w = gray.shape
    step = 0.5
    reach = np.arange(0.0, float(ahead.max(initial=0.0)) + step, step)
    at = inner[:, None, :] + reach[None, :, None] * unit[:, None, :] - [box.x0, box.y0]
    values = cv2.remap(gray, np.clip(at[..., 0], 0, w - 1).astype(np.float32),
                       np.clip(at[..., 1], 0, h - 1).astype(np.float32), cv2.INTER_LINEAR)
    # (Smoothed along the line over a pixel: one dark speck of a painting's crackle is no
    # line.)
    values = cv2.GaussianBlur(values, (0, 0), sigmaX=1.0 / step, sigmaY=1e-3,
                              borderType=cv2.BORDER_REPLICATE)
    values[reach[None, :] > ahead[:, None]] = np.inf
    return reach[np.argmin(values, axis=1)]


def _length(curve: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(curve, axis=0), axis=1).sum())


def _spline(points: np.ndarray, t: np.ndarray,
            ends: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The Catmull-Rom curve through ``points`` (in order, evenly spaced in its parameter)
    at ``t`` in 0..1: a lip drawn through its landmarks with straight segments has corners.
    ``ends``: the points it runs on to beyond its first and its last (by default, each end's
    neighbour mirrored through it: it leaves each end towards that neighbour)."""
    if ends is None:
        ends = (2 * points[0] - points[1], 2 * points[-1] - points[-2])
    p = np.r_[[ends[0]], points, [ends[1]]]
    k = len(points) - 1
    u = np.clip(t * k, 0.0, k - 1e-9)
    seg = u.astype(int)
    s = (u - seg)[:, None]
    p0, p1, p2, p3 = p[seg], p[seg + 1], p[seg + 2], p[seg + 3]
    return 0.5 * (2 * p1 + (p2 - p0) * s + (2 * p0 - 5 * p1 + 4 * p2 - p3) * s**2
                  + (3 * p1 - p0 - 3 * p2 + p3) * s**3)


def polygon_mask(polygon: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An anti-aliased float mask of a polygon given in the mask's pixel coordinates."""
    mask = np.zeros(size, np.float32)
    cv2.fillPoly(mask, [np.round(polygon * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA,
                 shift=2)
    return mask


#: A closed mouth's corners are moved whole as far as this fraction of :data:`FOLD_REACH`
#: beyond the lips' outer contour, fading out over as far again.
HELD_BEYOND = 0.25
#: ... the extent smoothed by a Gaussian of this fraction of the reach (a steep edge between
#: the corner held whole and the warp around folded the map).
HELD_SMOOTH = 0.15
#: ... and less of it where the map would take under this fraction of the source's area
#: the warp takes at least, anywhere around the corner.
HELD_SQUEEZE = 0.25


def hold_corners(source_map: np.ndarray, region: PixelBox, source_xy: np.ndarray,
                 target_xy: np.ndarray, scale: float) -> None:
    """Make (in place) the warp's map (:func:`~deepexpo.render.mesh_warp.backward_map`, over
    ``region``) move each of the mouth's corners as a whole: the source's corner, with the dark
    fold in it, turned as the warp turns it there on the whole and sized as the face is
    (``scale``, target over source), from ``source_xy`` to ``target_xy`` (landmarks, pixels),
    over :data:`FOLD_REACH` of the mouth's width around it, half of that wholly, and over the
    lips and :data:`HELD_BEYOND` of that beyond them, fading into the warp beyond. The mesh
    stretched the fold with the skin around the corner: a closed-lip pout bent s42's into a
    thin dark hook at each corner, a smile drew it out into a dark tail past each corner, and
    no redrawn lip covered either. An opened mouth's too, whose lips are redrawn over its
    corners: the skin just beyond each, left to the mesh, was drawn out as the corner moved
    (the turned painting s10's near corner by d19: the lip side of the painted corner's shade
    went with the lips, its skin side was drawn out 1.7 times up beside the opening's corner,
    a dark dot)."""
    canon = canonical_face()
    corners_s, corners_t = (xy[canon.outer_mouth_corners, :2] for xy in (source_xy, target_xy))
    reach = FOLD_REACH * float(np.linalg.norm(corners_s[1] - corners_s[0])) * scale
    for k in range(2):
        box = PixelBox.around(corners_t[k][None] + [[-reach], [reach]],
                              (region.y1, region.x1), 1)
        x0, y0 = max(box.x0, region.x0), max(box.y0, region.y0)
        if box.x1 - x0 < 2 or box.y1 - y0 < 2:
            continue
        ys, xs = np.mgrid[y0:box.y1, x0:box.x1].astype(np.float32)
        off = np.dstack([xs - corners_t[k][0], ys - corners_t[k][1]])
        # (The lips' corner and the fold's shade beyond it, not the skin or hair around: a
        # moustache's end turned with s12's corners curled.)
        outside = cv2.distanceTransform(
            (polygon_mask(target_xy[canon.lip_loops[0], :2] - [x0, y0], xs.shape) < 0.5
             ).astype(np.uint8), cv2.DIST_L2, 3)
        weight = cv2.GaussianBlur(
            np.clip(1.5 - 2.0 * np.linalg.norm(off, axis=-1) / reach, 0.0, 1.0)
            * np.clip(2.0 - outside / (HELD_BEYOND * reach), 0.0, 1.0), (0, 0),
            HELD_SMOOTH * reach)[..., None]
        view = source_map[y0 - region.y0:box.y1 - region.y0, x0 - region.x0:box.x1 - region.x0]
        # Turned as the warp turns it there on the whole (the rotation that best takes each
        # target pixel's offset from the corner to its source's), none of its stretch.
        towards = (view - corners_s[k]).astype(np.float32)
        turn = np.angle(np.sum(weight[..., 0] * np.conj(off[..., 0] + 1j * off[..., 1])
                               * (towards[..., 0] + 1j * towards[..., 1])))
        back = cv2.getRotationMatrix2D((0.0, 0.0), -np.degrees(turn), 1.0 / scale)[:, :2]
        held = off @ back.T.astype(np.float32) + corners_s[k].astype(np.float32)
        # Less of it where it would fold the map, or squeeze it to under a quarter of the
        # warp's least (a turn foreshortens the corner, which held whole no longer fits the
        # warp around it: s18 turned back 30 degrees).
        least = min(HELD_SQUEEZE * (area := float(map_area(view).min())), area)
        for amount in (1.0, 0.5, 0.25):
            moved = view + amount * weight * (held - view)
            if map_area(moved).min() >= least:
                view[:] = moved
                break
