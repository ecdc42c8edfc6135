"""A shut eye's upper lash line: the source's own, laid along the closed margin.

A closed eye shows its upper lashes as a thin dark line along the margin where the lids meet,
as dark, as thick and in the colour the open eye's lash line is (a photo's darker and thicker
towards the outer corner, a painting's or a cartoon's as drawn; none where the source shows
none). :func:`read_lash_line` reads it in the source, column by column along the open eye's
upper margin: its upper edge (where the lid's skin ends: below it may lie the iris, as dark),
its thickness (from where the eye's white shows under it, read across the line along its own
course; over the iris, its neighbours'), and its colour against the lid skin's above it (over
the iris no darker than over the white: the pupil is no lash). :func:`draw_lash_line` lays that
band along the closed margin in the output, a third of it hanging below (a shut eye's lashes
point down over the lower lid), sampled from the source at its own thickness and with its own
soft edges (its strokes kept), as the ratio of its colour to the skin's (so it darkens the lid
redrawn under it as the source's lash line darkens its lid, and darkens nothing where the
source's margin is skin), antialiased by each pixel's cover of the band (a line thinner than a
pixel drawn as faint as it is thin) and along it. It is laid over the lid after the seam where
the lids meet is softened (:func:`~.lids.soften_seam`), which blurred a lash line drawn under
it; on an eye not quite shut, onto the source's own line its lid already shows over the slit.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import median_filter

from ..geometry.boxes import PixelBox
from ..geometry.ramps import smoothstep
from .texture import LUMA, remap_at

#: The lash line is looked for from this fraction of the open gap below the upper margin's
#: landmarks (a painted eye's line may lie just under them) up to LOOK_ABOVE of it above them.
LOOK_BELOW = 0.15
LOOK_ABOVE = 0.5
#: The lid's skin above it is read up to SKIN_ABOVE of the open gap above the margin (its
#: lighter rows, this percentile: a heavy eyeliner, a close brow, lashes and a crease may cover
#: most of them).
SKIN_ABOVE = 1.0
SKIN_PERCENTILE = 90
#: The line's edges lie where it is halfway back from its darkest to the skin; its upper edge
#: has faded into the skin where it is SOFT_BACK of the way back from there.
SOFT_BACK = 0.7
#: Thickest drawn, a fraction of the eye's width (a heavy eyeliner is no thicker on a closed
#: lid than a lash line).
THICKEST = 0.07
#: The readings are smoothed along the eye over this fraction of its width (one column's
#: noise, a lash's gap, is no change in the line).
ALONG = 0.08
#: A column whose edge strays from the lid's curve by more than this many times the columns'
#: median is off the line.
OFF_THE_LID = 3.0
#: Where the line is seen over the eye's white along at least this fraction of the eye, it is
#: no darker over the iris than there (by a corner, a column or two of white is no reading:
#: s1's eyeliner is black over her white too).
OVER_WHITE = 0.25
#: The lashes' colour is read in this percentile of the line's darkest columns.
DARKEST = 25
#: The line tapers to a point at the corners over this fraction of the eye's half-width.
TAPER = 0.13
#: It is antialiased along its length with a blur of this many output pixels (its tapered
#: ends too, cut off between two columns).
ALONG_BLUR = 1.2
#: Its darkness is evened along it over this fraction of the eye's width.
EVEN_ALONG = 0.06
#: This fraction of its thickness hangs below the closed margin.
HANGING = 0.35
#: Sunk onto the line an eye not quite shut shows below the margin, its course is smoothed
#: over this fraction of the eye's width (the lid's edge is one smooth curve).
SUNK_ALONG = 0.25
#: It is sunk all the way where at least this fraction of the columns around show that line.
SUNK_FOUND = 0.5
#: A line the lid already shows is as dark as the lashes, this fraction of the way back to
#: the skin (a lid's seam or its crease's shadow, lighter, is none: Grace Hopper's).
OWN_BACK = 1 / 3
#: An eyeliner wrapped past the outer corner into a tail along the lower lid (s1's) is left
#: below the closed margin's end: a line past the corner darker than TAIL_BACK of the way
#: back from the lashes to the skin, from the corner on over TAIL_ALONG of the eye's width,
#: within TAIL_BELOW times the line's thickness below the margin's end (as far above it).
TAIL_BACK = 0.6
TAIL_ALONG = 0.08
TAIL_BELOW = 2.0
#: The line is eased onto it over this fraction of the eye's half-width from its outer end.
TAIL_EASE = 0.6


@dataclass(frozen=True)
class LashLine:
    """An open eye's upper lash line, read at ``xs`` (source columns, corner to corner) above
    its margin at rows ``ys``: its upper edge ``edge`` source pixels above the margin, its
    darkest row ``core`` (below it lies the eye), how far above its edge it fades into the
    skin (``soft``), its ``thickness`` as drawn shut (source pixels), the lid skin's colour
    ``skin`` (RGB) above it, which its pixels are read against, the lashes' own colour over
    the skin's (``lashes``, RGB, one along the line: read where it is darkest), and the
    lightest its darkest pixels are drawn, over the skin (``lightest``, per column: over the
    iris, as dark as the line is beside it over the eye's white; 0, as dark as read)."""

    xs: np.ndarray
    ys: np.ndarray
    edge: np.ndarray
    core: np.ndarray
    soft: np.ndarray
    thickness: np.ndarray
    skin: np.ndarray
    lashes: np.ndarray
    lightest: np.ndarray


def read_lash_line(image: np.ndarray, margin: np.ndarray, gap: float) -> LashLine | None:
    """The upper lash line of the open eye in ``image`` whose upper margin is ``margin``
    (source pixels, corner to corner) and open ``gap`` (its widest, source pixels); None on an
    eye too small to read."""
    margin = margin[np.argsort(margin[:, 0])]
    width = float(np.ptp(margin[:, 0]))
    if width < 4 or gap < 1:
        return None
    xs = np.linspace(margin[0, 0], margin[-1, 0], max(8, int(np.ceil(width)) + 1))
    ys = np.interp(xs, margin[:, 0], margin[:, 1])
    step = 0.5
    steps = np.arange(-max(1.0, LOOK_BELOW * gap), max(4.0, SKIN_ABOVE * gap) + step, step)
    rgb = _sample(image, xs, ys, steps)  # (steps, columns, 3)
    # (Read through its strokes: smoothed along the eye, single lashes or a painting's
    # strokes above the line, taken one by one, jagged its edge from column to column.)
    gray = _through_strokes(rgb)
    columns, rows = np.arange(len(xs)), np.arange(len(steps))[:, None]
    along = max(3, int(round(ALONG * len(xs))) | 1)
    near = (steps <= max(2.0, LOOK_ABOVE * gap))[:, None]
    skin_level = median_filter(np.percentile(gray[(steps >= 0) & (steps <= SKIN_ABOVE * gap)],
                                             SKIN_PERCENTILE, axis=0), along, mode="nearest")
    half = 0.5 * (np.where(near, gray, np.inf).min(axis=0) + skin_level)
    # Its upper edge: the top of the run of rows darker than halfway from the skin to the
    # darkest near the margin that holds the most ink (not the darkest: a pupil under the
    # line may be darker than the line itself, s7's; nor the highest: a painted lid's
    # crease line above it).
    ink = np.where(near & (gray < half[None, :]), skin_level[None, :] - gray, 0.0)
    edge_row = np.array([_heaviest_run(ink[:, c]) for c in columns])
    edge = _crossing(gray, steps, edge_row, edge_row + 1, half)
    course = _along_the_lid(median_filter(edge, along, mode="nearest"))
    # Its darkest row, within as thick as it is drawn below that edge (further down lies the
    # eye: an iris, a pupil).
    reach = max(2.0, THICKEST * width)
    within = (steps[:, None] <= steps[edge_row][None, :]) \
        & (steps[:, None] >= steps[edge_row][None, :] - reach)
    darkest = np.argmin(np.where(within, gray, np.inf), axis=0)
    line_half = 0.5 * (gray[darkest, columns] + skin_level)
    # Its lower edge where it has one (the eye's white under it), halfway back to the skin's
    # level from its darkest row; over the iris, none: the thickness its neighbours show.
    low, found = _lower_edge(gray, steps, darkest, line_half, reach)
    thickness = edge - low
    # (No thicker than across it along its own course: smoothed along the margin, a line
    # sloping across it was read as thick again as it is, s10's painted line, 2 px, read
    # 4.3, a black bar shut.)
    across, seen_across = _across(_through_strokes(_sample(image, xs, ys - course, steps)),
                                  steps, (steps <= 0.5) & (steps >= -reach), skin_level, reach)
    thickness = np.where(found & seen_across, np.minimum(thickness, across), thickness)
    lightest = np.zeros(len(columns))
    if found.mean() >= OVER_WHITE:
        # (Over the iris the line is no darker than beside it: read there, it was the
        # pupil's black under a painting's pale grey line, s10's shut eyes a black bar.)
        depth = median_filter(gray[darkest, columns] / np.maximum(skin_level, 1.0), along,
                              mode="nearest")
        lightest = np.interp(columns, columns[found], depth[found]) \
            * _along_rows((~found)[None, :].astype(np.float32), 0.5 * along)[0]
    if found.any():
        thickness = np.interp(columns, columns[found], thickness[found])
    else:
        thickness = 2.0 * (edge - steps[darkest])
    # (Its shape kept, the thickest part no thicker than THICKEST: clipped, a heavy
    # eyeliner's lash line was as thick from corner to corner.)
    thickness = median_filter(np.maximum(thickness, 1.0), along, mode="nearest")
    thickness *= min(1.0, THICKEST * width / float(thickness.max()))
    edge = course
    # (Its darkest row no lower than its middle: over an iris or pupil the darkest is the
    # eye's, which drew a blue-black rim under s7's line.)
    core = np.clip(median_filter(steps[darkest], along, mode="nearest"),
                   edge - 0.5 * thickness, edge - 0.5)
    # The skin's colour: its rows above the edge as light as its level.
    lit = (steps[:, None] > edge[None, :]) & (gray >= 0.5 * (line_half + skin_level)[None, :])
    seen = lit.any(axis=0)
    if not seen.any():
        return None
    skin = np.stack([np.ma.median(np.ma.masked_array(rgb[..., c], ~lit), axis=0).filled(0.0)
                     for c in range(3)], axis=-1)
    # (One colour along the eye, lit as each column's skin is: read column by column, a
    # corner's skin under a heavy eyeliner read as dark as it, and the line's colour against
    # it turned red and white there, s1's.)
    skin = np.median(skin[seen], axis=0)[None, :] \
        * (skin_level / max(float(np.median(skin_level)), 1.0))[:, None]
    # How soft its edge is: from it up to where the skin is nearly back (a soft photo's few
    # pixels, a drawing's none).
    back = (rows > edge_row[None, :]) & (gray >= (line_half + SOFT_BACK * (skin_level
                                                                          - line_half))[None, :])
    faded = np.where(back.any(axis=0), steps[np.argmax(back, axis=0)], steps[-1])
    soft = median_filter(np.clip(faded - edge, 0.5, 0.5 * thickness), along, mode="nearest")
    skin = np.maximum(skin, 1.0)
    # The lashes' colour: their darkest rows where the line is darkest (thickest with lashes:
    # where they thin out, by the inner corner, the lid's pink rim and the shadow under it show
    # through, and read there, s1's line was drawn red along its inner half).
    core_rgb = rgb[np.clip(np.round((core - steps[0]) / step).astype(int), 0, len(steps) - 1),
                   columns] / skin
    darkness = core_rgb @ LUMA
    lashes = np.median(core_rgb[darkness <= np.percentile(darkness, DARKEST)], axis=0)
    return LashLine(xs, ys, edge, core, soft, thickness, skin, np.clip(lashes, 0.0, 1.0),
                    lightest)


def draw_lash_line(out: np.ndarray, image: np.ndarray, lash: LashLine,
                   margin_xy: np.ndarray, scale: float, outer_xy: np.ndarray | None = None
                   ) -> None:
    """Darken ``out`` (in place) along the closed upper margin ``margin_xy`` (output pixels,
    corner to corner, in the order of the source's margin that ``lash`` was read along) with
    the source's lash line ``lash`` (in ``image``; ``scale`` source pixels per output pixel),
    run into an eyeliner's tail past the eye's outer corner ``outer_xy`` where it has one."""
    order = np.argsort(margin_xy[:, 0])
    margin_xy = margin_xy[order]
    width = float(np.ptp(margin_xy[:, 0]))
    if width < 2:
        return
    thickest = float(lash.thickness.max()) / scale
    box = PixelBox.around(margin_xy, out.shape[:2], 2 * thickest + 3)
    h, w = box.size
    if h < 2 or w < 2:
        return
    cols = np.arange(box.x0, box.x1, dtype=np.float64)
    # Where along the eye each column lies, 0 to 1 corner to corner, and the source column.
    along = (cols - margin_xy[0, 0]) / width
    within = (along >= 0.0) & (along <= 1.0)
    if not within.any():
        return
    position = np.clip(along, 0.0, 1.0)
    read_at = np.linspace(0.0, 1.0, len(lash.xs))
    src_x = np.interp(position, read_at, lash.xs)
    src_y = np.interp(position, read_at, lash.ys)
    edge = np.interp(position, read_at, lash.edge)
    core = np.interp(position, read_at, lash.core)
    soft_src = np.interp(position, read_at, lash.soft)
    skin = np.stack([np.interp(position, read_at, lash.skin[:, c]) for c in range(3)], -1)
    taper = np.clip((1.0 - np.abs(2.0 * position - 1.0)) / TAPER, 0.0, 1.0)
    bottom = np.interp(cols, margin_xy[:, 0], margin_xy[:, 1])
    line_src = np.interp(position, read_at, lash.thickness)
    lashes_light = float(lash.lashes @ LUMA)
    ys = np.arange(box.y0, box.y1, dtype=np.float64)[:, None]
    # Where an eyeliner wraps past the outer corner into a tail along the lower lid, left
    # below the closed margin's end (s1's), the line's course is eased down onto the tail's
    # middle over the eye's outer end, so that it tapers into it: tapered to its point at the
    # margin's end, it ended above the tail, a step (s1 by d12.mp4 frame 136: its lower edge
    # 2.5 pixels higher than the tail's, its top 7; eased over the taper alone, the line bent
    # down in a dog-leg).
    ease = np.zeros(w)
    if outer_xy is not None:
        outer_last = bool(np.linalg.norm(margin_xy[-1] - outer_xy)
                          < np.linalg.norm(margin_xy[0] - outer_xy))
        end = int(np.flatnonzero(within)[-1 if outer_last else 0])
        tail = _tail_past(out[box.slices], ys[:, 0], end, 1 if outer_last else -1,
                          float(bottom[end]), float(line_src[end]) / scale,
                          lashes_light, max(2, int(round(TAIL_ALONG * width))))
        if tail is not None:
            from_end = 1.0 - position if outer_last else position
            ease = smoothstep(1.0 - 2.0 * from_end / TAIL_EASE)
            bottom = bottom + ease * (tail - bottom)
    # (Thick across the margin, not down each column: down a steep corner's columns it was
    # cut into separate dark dots.)
    steep = np.hypot(1.0, np.gradient(bottom))
    thick_src = line_src * taper * within
    thick = thick_src / scale * steep  # output pixels
    # (With the source's soft edges: above the line its own fade into the skin, and faded
    # over as much; below it, fading out over as much. Cut off at its halfway edges, a soft
    # photo's lash line was drawn as a hard dark stroke; drawn at full strength above the
    # line, a lash's root was a dark speck.)
    soft = soft_src * taper * steep / scale
    own = _own_line_below(out[box.slices], ys[:, 0], bottom, thick, lashes_light,
                          SUNK_ALONG * width)
    # (Onto the tail, not below it.)
    bottom = bottom + own.sunk * (1.0 - ease)
    top_y, low_y = bottom - (1 - HANGING) * thick, bottom + HANGING * thick
    # Each pixel's cover of the band (the rows it spans), as much lighter as the line has
    # thinned out on its way from the middle to that column (towards a corner a lash line
    # thins out and lightens together, its lashes sparser and shorter): where it tapers off
    # (its point, down a steep corner, was a dark dot apart from the line) and where the
    # source's line thins out by a corner (at full darkness, thinned to a pixel or two, Grace
    # Hopper's inner ends were dark specks apart from the line).
    fades = np.maximum(soft, 1e-6)[None, :]
    cover = np.clip(np.minimum(ys + 0.5, (low_y + soft)[None, :])
                    - np.maximum(ys - 0.5, (top_y - soft)[None, :]), 0.0, 1.0) \
        * np.clip((low_y + soft - ys) / fades, 0.0, 1.0) \
        * np.clip((ys - top_y + soft) / fades, 0.0, 1.0) \
        * _thinned_out(thick_src, int(np.argmin(np.abs(along - 0.5))))[None, :]
    if not cover.any():
        return
    map_x = np.broadcast_to(src_x[None, :], cover.shape)
    # (From above its upper edge down, at the source's scale, and no lower than its darkest
    # row: below it lies the eye.)
    map_y = src_y[None, :] - np.maximum(edge[None, :] - (ys - top_y[None, :]) * scale,
                                        core[None, :])
    near = PixelBox.around(np.c_[lash.xs, lash.ys - lash.edge], image.shape[:2],
                           2 * float(lash.thickness.max()) + 3)
    band = remap_at(image[near.slices].astype(np.float32), map_x - near.x0, map_y - near.y0)
    ratio = np.clip(band / skin[None, :, :], 0.0, 1.0)
    # (Its darkness evened along the line, its finest detail kept (a drawing's strokes): a
    # photo's lashes, darker and lighter from place to place, broke a thin line into dark
    # dashes, and where they stop, by Grace Hopper's inner corners, it ended in a stub.)
    ratio = ratio.astype(np.float32)
    ratio = np.clip(_along_rows(ratio, max(0.7, EVEN_ALONG * width)) + ratio
                    - _along_rows(ratio, 0.7), 0.0, 1.0)
    # Each pixel the lashes' own colour over the skin, as densely as it is dark (as light as
    # read, past the lashes' darkness as dark): a light pixel read by a corner, the caruncle's
    # pink, is no lash and tinted the lid red there, s12's; and where the lashes thin out the
    # colour read is the lid rim's (s1's line was red along its inner half).
    light = np.maximum(ratio @ LUMA,
                       np.interp(position, read_at, lash.lightest)[None, :])[..., None]
    dense = (1.0 - light) / max(1.0 - lashes_light, 1e-3)
    ratio = np.where(dense <= 1.0, 1.0 - dense * (1.0 - lash.lashes),
                     lash.lashes * light / max(lashes_light, 1e-3))
    # (Antialiased along the line too: its tapered ends, cut off between two columns, were
    # dark stubs apart from the line, Grace Hopper's.)
    alpha = cv2.GaussianBlur(cover.astype(np.float32), (0, 0), sigmaX=ALONG_BLUR,
                             sigmaY=0.01)[..., None]
    # The line darkens the lid's tone around it as the source's darkens its lid, the lid's
    # grain kept as far as the line is light (the lid's skin where the source's lash row is
    # the eye's white, a painting's crackle there), and no pixel further than that (a
    # wrinkle under it, darkened again, was a dark speck).
    patch = out[box.slices].astype(np.float32)
    local = cv2.medianBlur(out[box.slices], 5).astype(np.float32)
    tone = np.where(own.pixels[..., None], own.skin[None, :, :], local)
    # (Nor the tail it is eased onto: darkened from the tail's own tone, s1's line ended in
    # a black knot, L 1-3 against the line's 3-8.)
    tone = tone + ease[None, :, None] * np.maximum(own.skin[None, :, :] - tone, 0.0)
    line = np.minimum(patch, tone * ratio + (patch - local) * light**2)
    out[box.slices] = np.clip(patch + alpha * (line - patch), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class OwnLine:
    """A lash line the output's lid already shows under the closed margin (an eye not quite
    shut): how far the line to be drawn is moved down onto it (``sunk``, output pixels per
    column), its pixels (``pixels``, in the box drawn in) and the lid skin's colour above it
    (``skin``, RGB per column), which they are darkened from (darkened from their own, the
    line drawn over them was near black)."""

    sunk: np.ndarray
    pixels: np.ndarray
    skin: np.ndarray


def _own_line_below(patch: np.ndarray, rows: np.ndarray, bottom: np.ndarray,
                    thick: np.ndarray, lashes_light: float, along: float) -> OwnLine:
    """The lash line ``patch`` (its rows ``rows``) shows just below the closed margin
    ``bottom`` where the line to be drawn is ``thick``: an eye not quite shut (a driver's eye
    read nearly closed) shows the source's own lash line along its lid's edge, over the slit,
    a little below the margin's landmarks. Laid at the landmarks, the drawn line ran above
    that one, the two a bar half as thick again as the lashes (s1 by d3.mp4 frame 136: 10.2
    pixels, a full blink's 8.3). It is the run of rows from the margin down, no further than
    the line is thick, as dark as the lashes (``lashes_light``, over the skin) OWN_BACK of the
    way back to the lid's skin above; the line is sunk to end where it ends (no further than
    its thickness, smoothed over ``along`` pixels: its course has no steps)."""
    rgb = patch.astype(np.float32)
    gray = rgb @ LUMA.astype(np.float32)
    below = rows[:, None] - bottom[None, :]
    above = (below >= -2.0 * thick[None, :] - 3.0) & (below <= -thick[None, :])
    skin = np.stack([np.ma.median(np.ma.masked_array(rgb[..., c], ~above), axis=0).filled(0.0)
                     for c in range(3)], axis=-1)
    dark = (gray < (_back_towards_skin(lashes_light, OWN_BACK) * (skin @ LUMA))[None, :]) \
        & (below > 0.0) & (below <= thick[None, :] + 1.0)
    # (The run from the margin's first dark row down: the iris under a slit is darker still.)
    start = np.where(dark.any(axis=0), np.argmax(dark, axis=0), len(rows))
    index = np.arange(len(rows))[:, None]
    pixels = dark & (np.cumsum(~dark & (index > start[None, :]), axis=0) == 0)
    lowest = np.where(pixels, below + 0.5, 0.0).max(axis=0)
    sunk = np.clip(lowest - HANGING * thick, 0.0, thick) * (thick > 0)
    # (Where the eye's white shows under the lid's edge it holds no line: there, the course
    # its neighbours' show, as far as they show one (a column or two, a dark lash, sink
    # nothing). Sunk column by column, the line fell by a step where the white ended.)
    found = pixels.any(axis=0).astype(np.float32)
    weight = _along_rows(found[None, :], along)[0]
    sunk = _along_rows((sunk * found)[None, :].astype(np.float32), along)[0] \
        / np.maximum(weight, 1e-3) * np.clip(weight / SUNK_FOUND, 0.0, 1.0)
    return OwnLine(sunk, pixels, skin)


def _tail_past(patch: np.ndarray, rows: np.ndarray, end: int, step: int, level: float,
               thick: float, lashes_light: float, along: int) -> float | None:
    """The middle (a row of ``rows``, between its edges, interpolated) by the corner of the
    dark line ``patch`` shows past the closed margin's end (its column ``end``, at the row
    ``level``, the line there ``thick``), going on from it column by column (``step``) over
    ``along`` columns, no lighter than :data:`TAIL_BACK` of the way back from the lashes
    (``lashes_light``, over the skin) to the skin around it: an eyeliner's tail; or None."""
    columns = end + step * np.arange(1, along + 1)
    if columns.min() < 0 or columns.max() >= patch.shape[1]:
        return None
    gray = patch[:, columns].astype(np.float32) @ LUMA.astype(np.float32)
    near = (rows >= level - thick) & (rows <= level + TAIL_BELOW * thick)
    around = (rows >= level - 2.0 * thick - 1.0) & (rows <= level + (TAIL_BELOW + 1.0) * thick + 1.0)
    if not near.any():
        return None
    skin = np.median(gray[around], axis=0)
    darkest = np.argmin(np.where(near[:, None], gray, np.inf), axis=0)
    index = np.arange(along)
    dark = gray[darkest, index]
    # (One line going on from the corner, not a dark speck or a shadow beside it.)
    if (dark >= _back_towards_skin(lashes_light, TAIL_BACK) * skin).any() \
            or np.abs(np.diff(darkest)).max(initial=0) > 1:
        return None
    half = 0.5 * (dark + skin)
    row = np.arange(len(rows))[:, None]
    light = gray >= half[None, :]
    above = np.where(light & (row < darkest[None, :]), row, -1).max(axis=0)
    below = np.where(light & (row > darkest[None, :]), row, len(rows)).min(axis=0)
    if (above < 0).any() or (below >= len(rows)).any():
        return None
    top = _crossing(gray, rows, above, above + 1, half)
    low = _crossing(gray, rows, below - 1, below, half)
    first = slice(0, max(1, along // 2))
    return float(np.median(0.5 * (top + low)[first]))


def _back_towards_skin(lashes_light: float, back: float) -> float:
    """The lightness over the skin's of a line as dark as the lashes (``lashes_light``, over
    the skin) ``back`` of the way back to the skin: a line darker than that is lash line."""
    return lashes_light + back * (1.0 - lashes_light)


def _thinned_out(thickness: np.ndarray, middle: int) -> np.ndarray:
    """``thickness`` (per column) over the thickest it is between each column and the column
    ``middle``: 1 where the line is as thick as anywhere on the way, less where it thins."""
    thickest = np.r_[np.maximum.accumulate(thickness[middle::-1])[:0:-1],
                     np.maximum.accumulate(thickness[middle:])]
    return thickness / np.maximum(thickest, 1e-6)


def _along_rows(values: np.ndarray, sigma: float) -> np.ndarray:
    """``values`` blurred along their rows (along the line) by ``sigma`` pixels."""
    return cv2.GaussianBlur(values, (0, 0), sigmaX=sigma, sigmaY=0.01,
                            borderType=cv2.BORDER_REPLICATE)


def _sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, steps: np.ndarray
            ) -> np.ndarray:
    """``image`` (RGB, float) ``steps`` above each of the points ``xs``, ``ys``: (steps,
    points, 3). Only the eye's surroundings are read (a video frame may be large)."""
    map_x = np.broadcast_to(xs[None, :], (len(steps), len(xs)))
    map_y = ys[None, :] - steps[:, None]
    box = PixelBox.around(np.c_[map_x.ravel(), map_y.ravel()], image.shape[:2], 2)
    return remap_at(image[box.slices].astype(np.float32), map_x - box.x0, map_y - box.y0)


def _through_strokes(rgb: np.ndarray) -> np.ndarray:
    """The lightness of ``rgb`` (steps, columns, 3) smoothed along its columns, over ALONG of
    them."""
    return cv2.GaussianBlur((rgb @ LUMA).astype(np.float32), (0, 0),
                            sigmaX=max(0.5, 0.5 * ALONG * rgb.shape[1]), sigmaY=0.01,
                            borderType=cv2.BORDER_REPLICATE)


def _along_the_lid(edge: np.ndarray) -> np.ndarray:
    """``edge`` (a height above the margin per column) with the columns that stray from a
    parabola fitted through the rest (by more than OFF_THE_LID times their median distance
    from it, at least a pixel) moved onto it: an eye's corner, its caruncle or a heavy
    eyeliner's end, read as a lash line's edge off the line (s1's inner corner, where the
    line was drawn red from the caruncle)."""
    columns = np.arange(len(edge), dtype=np.float64)
    kept = np.ones(len(edge), bool)
    for _ in range(2):
        fit = np.polyval(np.polyfit(columns[kept], edge[kept], 2), columns)
        off = np.abs(edge - fit)
        kept = off <= max(1.0, OFF_THE_LID * float(np.median(off)))
    return np.where(kept, edge, fit)


def _across(gray: np.ndarray, steps: np.ndarray, within: np.ndarray, skin: np.ndarray,
            reach: float) -> tuple[np.ndarray, np.ndarray]:
    """Across each column of ``gray`` (rows at heights ``steps``), the line's run of rows
    darker than halfway from its darkest row (one of those ``within``) to the ``skin``
    level: its thickness, and whether it has a lower edge within ``reach`` below its
    darkest."""
    columns, rows = np.arange(gray.shape[1]), np.arange(len(steps))[:, None]
    darkest = np.argmin(np.where(within[:, None], gray, np.inf), axis=0)
    level = 0.5 * (gray[darkest, columns] + skin)
    above = (rows > darkest[None, :]) & (gray >= level[None, :])
    top_row = np.where(above.any(axis=0), np.argmax(above, axis=0), len(steps) - 1)
    low, found = _lower_edge(gray, steps, darkest, level, reach)
    return _crossing(gray, steps, top_row - 1, top_row, level) - low, found


def _lower_edge(gray: np.ndarray, steps: np.ndarray, darkest: np.ndarray, level: np.ndarray,
                reach: float) -> tuple[np.ndarray, np.ndarray]:
    """Where each column of ``gray`` (rows at heights ``steps``) is back to ``level`` below
    its row ``darkest``, within ``reach`` of it (the height, interpolated), and whether it is
    (the eye's white under a lash line; over the iris, not)."""
    rows = np.arange(len(steps))[:, None]
    under = (rows < darkest[None, :]) & (steps[:, None] >= steps[darkest][None, :] - reach) \
        & (gray >= level[None, :])
    low_row = len(steps) - 1 - np.argmax(under[::-1], axis=0)
    return _crossing(gray, steps, low_row, low_row + 1, level), under.any(axis=0)


def _heaviest_run(ink: np.ndarray) -> int:
    """The top row of the run of rows with ``ink`` (none: 0) whose ink adds up to the most."""
    runs = np.cumsum(np.r_[ink[:1] > 0, (ink[1:] > 0) & (ink[:-1] <= 0)]) * (ink > 0)
    if not runs.any():
        return 0
    heaviest = int(np.argmax(np.bincount(runs, weights=ink)[1:])) + 1
    return int(np.flatnonzero(runs == heaviest)[-1])


def _crossing(gray: np.ndarray, steps: np.ndarray, one: np.ndarray, other: np.ndarray,
              level: np.ndarray) -> np.ndarray:
    """Where each column of ``gray`` crosses ``level`` between its rows ``one`` and ``other``:
    the height in ``steps``, interpolated."""
    columns = np.arange(gray.shape[1])
    one, other = (np.clip(r, 0, len(steps) - 1) for r in (one, other))
    a, b = gray[one, columns], gray[other, columns]
    f = np.clip((level - a) / np.where(np.abs(b - a) > 1e-6, b - a, 1e-6), 0.0, 1.0)
    return steps[one] + f * (steps[other] - steps[one])
