"""A closing upper lid drawn with the lid's own lashes, as skin.

A 2D warp has no skin to cover a closing eye with but the thin band of lid between the lashes
and the brow, which it stretches over the eye several times over: its fine texture becomes
vertical streaks, its lash line (and a painted eyeliner) a thick dark band, its eyeshadow, lit
band or crease an eye-shaped patch. So over the part of the lid that the closing margin sweeps
(an arch a little wider than the eye, over the squeezed ends of its lash line), the lid is
redrawn as skin down to the closed margin and over the strip below it (where the source's own
lash line is then laid: :mod:`.lashes`), in the tone of the skin around the eye,
spread over the lid so that it meets the skin beside it and then matched in tone to the warp
right around it, in the colour of the skin right round the eye (which a shut lid continues;
further around may be fur or a brow of another colour), a little darker towards the lash line
as a closed lid is, with the picture's own grain (its pores, noise, a painting's crackle and
mottling) read pixel for pixel under the eye at the source's scale, no stronger than the
skin's round the eye (the cheek may have pores or freckles it has not) and no weaker (topped
up with the skin's own grain round the eye, scattered); at the top it fades, in
tone, into the warp as the warp is at the lid's top (not as it is under the fade: the open
lid's crease and lit band, moved down with the margin, drew a second lash line through it), no
lighter there than the lid, keeping its grain (around it, the lid and the warp are mixed in
tone and in grain apart, the grain at its strength: faded plainly, a smooth band drew the lid's
outline). No part of it, nor the strip below it where the eye's white may linger, is lighter
than the lid's skin. The line where the lids meet is then softened: the warp squeezes
everything between the lids into a pixel or two there, which sampled point by point shows as a
dashed, jagged seam. The arch is raised square to the line between the eye's corners (raised
straight up over a tilted eye, it fell short of its lower corner).

An eye taller than the skin above it (a cartoon's, a cat's) is not closed here but covered
(:mod:`.eye_cover`).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..geometry.boxes import PixelBox
from ..geometry.ramps import smoothstep
from .texture import (
    GRAIN_BLOCK,
    LUMA,
    calm_donors,
    channel_spread,
    grain_at,
    grain_strength_at,
    robust_spread,
    scattered_grain,
)

#: The softened band's half-height and its blur, as fractions of the eye's width.
SEAM_HALF_HEIGHT = 0.04
SEAM_BLUR = 0.025
#: A seam softened above its line only (a risen lower lid's) fades out over this many pixels
#: below it: the lid's edge antialiased, its rim kept.
KEPT_BELOW_FADE = 1.0
#: ... and is softened this many pixels above it, with a blur of as many: the join of a lid
#: over the eye it covers (the eye above kept whole), not a squeezed eye.
KEPT_BELOW_REACH = 1.0
#: How far above the closed margin the redrawn lid reaches, in open gaps of the eye at that
#: point (times how far it closed): over the swept eye and the stretched lid above it.
LID_REACH = 1.9
#: How far below the closed margin the white of the eye is darkened to the lid's colour, in
#: open gaps of the eye.
WHITE_BELOW = 0.3
#: The closed margin smoothed along the lid by this blur, a fraction of the eye's width.
MARGIN_SMOOTH = 0.05
#: The redrawn lid's edge softened along the lid by this blur, a fraction of the eye's width.
END_BLUR = 0.04
#: The redrawn lid's arch spans this many times the eye's width (over the squeezed lash line's
#: and eyeliner's ends at the corners).
ARCH_SPAN = 1.2
#: A brow's hairs and its soft edge reach this many pixels below the line through its lower
#: landmarks (s42's 4; as 0.07 of the eye's width, 2 px by the small eyes of s12 and the
#: astronaut, their brows' edges stayed in and dlib read those eyes less shut).
BROW_BELOW = 4.0
#: A brow's landmarks lie at least this fraction of the open gap above the eye's lash line.
BROW_ABOVE_LASH = 0.35
#: The redrawn lid fades into the warp over this fraction of its height at its top, where the
#: warp is brought to no lighter than the lid's skin and at most RIM_DARKER darker.
FADE = 0.5
RIM_DARKER = 0.1
#: The lid and the warp are mixed in tone (their colours blurred by this, pixels) and in
#: grain (the rest) apart; the warp's tone is brought to the lid's skin with this power of
#: the fade's weight (a root: a dark iris stretched under the fade showed through it).
MIX_BLUR = 1.6
NEAR_SKIN_POWER = 0.25
#: ... and the warp's detail there to this many times the grain's robust spread.
WARP_GRAIN_MOST = 2.5
#: The closed lid's tone: the skin's within AROUND of the eye's width around it (its darkest
#: pixels, this percentile, and its lightest, this one, left out, and those under AROUND_DARKER
#: of the median), spread over the lid with
#: blurs of AROUND of the eye's width and less, where they cover AROUND_COVER of known skin.
AROUND = 0.35
AROUND_DARKEST = 10
AROUND_COVER = 0.3
AROUND_DARKER = 0.6
AROUND_LIGHTEST = 95
#: A closed lid's shading: LID_SHADE darker than the skin around (a fraction of its tone), and
#: LASH_SHADE more at the lash line, fading over SHADE_REACH of the redrawn lid's height; both
#: less towards its ends (this power of a parabola across it).
LID_SHADE = 0.08
LASH_SHADE = 0.07
SHADE_REACH = 0.3
SHADE_ENDS = 0.5
#: The thickest lash line drawn on a closed lid, a fraction of the eye's width; it tapers to
#: a point at the corners over this fraction of the eye's half-width.
LASH_MOST = 0.08
LASH_TAPER = 0.25
#: The skin's colour is read through its detail finer than this blur (pixels).
DETAIL_BLUR = 1.6
#: The closed lid's colour (its hue and saturation; its tone is the skin's around, above) is
#: the skin's right round the open eye, where a shut lid's skin continues: within LID_SKIN of
#: the eye's width past LID_SKIN_CLEAR pixels from its margins, its darkest LID_SKIN_DARKEST
#: percent (lashes, the rim, a crease) and its lightest AROUND_LIGHTEST (the eye's white) left
#: out. (Clear of the eye by as far as its colour bleeds: a photo's colour is coarser than its
#: light, at half its resolution in a JPEG and often coloured in by hand or by a model, and
#: the eye's grey white and dark iris greyed the skin round it; round s12's 25 px eyes, the
#: skin's yellow, b* 3.6 within 2 px of the eye, 5.3 at 2-4, 6.5 at 4-6 and 7-9 from 6 px
#: on, made his shut lids cooler than his brown sockets, greyish mauve.)
LID_SKIN = 0.2
LID_SKIN_CLEAR = 6
LID_SKIN_DARKEST = 25
#: The lid's tone meets the warp's on a ring this fraction of the eye's width around its
#: outline above the margin, where that is no darker than AROUND_DARKER of the ring's own
#: median (hair, a dark background; a shadowed socket beside the lid is skin); it changes at
#: most EDGE_DARKER darker (a socket's shade: s12's, 0.5 to 0.8 of the skin further around,
#: held to 0.8, left a pale grey oval on his shut eye; held to 0.6, his left shut lid was 30
#: levels lighter than the socket round the open eye, now 24) and EDGE_LIGHTER lighter for it
#: beside the eye's ends (by its corners, at the lash line's level, there may be the eye's
#: white reaching past them), EDGE_LIGHTER_OVER over the eye (lit skin above the lid: the
#: astronaut's, held to 1.05 there, left a grey patch on each shut eye).
EDGE_RING = 0.12
EDGE_DARKER = 0.5
EDGE_LIGHTER = 0.05
EDGE_LIGHTER_OVER = 0.2
#: The grain (:func:`~deepexpo.render.texture.grain_at`): the source's detail with its
#: mottling finer than GRAIN_MOTTLE of the eye's width (a lid without it was a flat oval on a
#: painting's mottled skin), under the eye (this fraction of the eye's width below it:
#: nearer, the crease under the lower lid drew an arc across the lid).
GRAIN_MOTTLE = 0.08
UNDER_EYE = 0.3
#: ... topped up to the skin's round the eye (its detail finer than TOP_UP_DETAIL pixels, a
#: robust spread) with the picture's own grain scattered
#: (:func:`~deepexpo.render.texture.scattered_grain`) from the calm skin round the eye, within
#: SKIN_DONORS of its width, its eye and brow grown by DONORS_CLEAR of that width left out
#: (:func:`skin_grain_donors`), and where the lid's grain is not already, to no further from
#: its tone than TOP_UP_MOST times the skin's spread. The grain under the eye, less its rows'
#: average (which takes the lines running along them), keeps little of the skin's texture on
#: a small eye: the astronaut's and s12's shut lids (19 and 25 px eyes) were smooth patches,
#: their fine detail 0.57 to 0.83 of the skin's round them (now 0.76 to 1.0; their mean
#: absolute Laplacian's 0.48 to 0.86, now 0.85 to 1.14). (Matched over
#: the detail finer than GRAIN_BLUR instead, the speckle the rows' average leaves was topped
#: up past the skin's finest detail: Grace Hopper's and s1's shut lids 1.4 to 1.5 times as
#: grainy as the skin round them.)
TOP_UP_DETAIL = 1.0
TOP_UP_MOST = 2.5
SKIN_DONORS = 0.6
DONORS_CLEAR = 0.1
#: The skin's grain the lid's is topped up to is read in the lid's own light: on the calm
#: skin round the eye (:func:`~deepexpo.render.texture.calm_donors`' blocks, off the lid and
#: the brow) within LIGHT_NEAR of the lid's tone as matched to the warp round it, where
#: LIGHT_LEAST pixels of it are (else on all the skin round the eye). A photo's grain
#: depends on the light: s12's pale skin, near white, is smooth (a robust spread of 2.9),
#: the shade of his socket grainy (7.3); topped up to the pale skin's, his right shut lid,
#: darkened to his socket's shade, was a smooth grey oval in it, its grain 0.6 of the
#: socket's beside it.
LIGHT_NEAR = 0.1
LIGHT_LEAST = 2 * GRAIN_BLOCK**2

#: A dark line across the eye above its lash line (a glasses' frame), which the lid stays
#: LINE_CLEAR pixels below (the lid's weight is blurred by 0.7 px across it), is as dark as
#: the lash line in LINE_ACROSS of the eye's middle columns, over a lash line darker than
#: LINE_UNDER of the skin above it.
LINE_ACROSS = 0.6
LINE_UNDER = 0.5
LINE_CLEAR = 2

#: An eyeliner's wing: the source's dark pixels (darker than WING_DARK of the way from its
#: lash line to its skin) joined to its lash line beyond an eye's corner, within WING_REACH of
#: the eye's width of it (what reaches further, as a dark background or hair beside the eye,
#: is no wing).
WING_DARK = 0.35
WING_REACH = 0.5
#: ... and is paint: its darkest tenth within WING_INK of the way from the lash line's tone to
#: the skin's (s42's wing 0.01, s1's eyeshadow 0.07 and below, s7's drawn lash lines 0.03).
#: A socket's shade beside the outer corner, under WING_DARK only at its deepest and over more
#: than WING_SHADE of the eye's width squared, is none: s10's far socket (0.16, over 0.045),
#: painted out in the skin's tone, sat round her closing eye as a pale patch with straight
#: edges (the corner's row, the lash line's end). (A few such pixels are the faint tip of the
#: lash line beyond the corner, 0.003 of s12's, painted out with their soft edge: left, the
#: shut lash line ended in a hook.)
WING_INK = 0.12
WING_SHADE = 0.02
#: ... painted out with its soft edge, this fraction of the eye's width around it, and with
#: its part above the lash line within WING_INSIDE of the eye's width of the corner.
WING_EDGE = 0.05
#: ... after the soft edge it has (where it is darker than the skin beside it by more than
#: WING_BACK of the way from the skin to its lash line's tone), up to WING_EDGE_REACH times
#: that width from its core.
WING_BACK = 0.1
WING_EDGE_REACH = 3
WING_INSIDE = 0.2
#: ... on an eye closed past WING_FROM, fully from WING_FULL.
WING_FROM, WING_FULL = 0.5, 0.75
#: ... over a box reaching this fraction of the eye's width beside its corners: the wing's
#: reach, its soft edge, the edge's growth and blur.
WING_ROOM = WING_REACH + (WING_EDGE_REACH + 2) * WING_EDGE


def draw_closing_lid(out: np.ndarray, image: np.ndarray, source_xy: np.ndarray,
                     region: PixelBox, margin_xy: np.ndarray, margin_from: np.ndarray,
                     open_gap: np.ndarray, closed: float, scale: float,
                     brow_xy: np.ndarray | None = None, outer_xy: np.ndarray | None = None,
                     sunk: np.ndarray | None = None, grain_donors: np.ndarray | None = None
                     ) -> None:
    """Redraw (in place) the lid above a closing eye's margin in ``out``, the warp of ``image``
    through ``source_xy`` over ``region`` (:func:`~deepexpo.render.mesh_warp.backward_map`).

    ``margin_xy``: the closing upper margin in the output, corner to corner (pixels), and
    ``margin_from`` where the warp takes each of its points from in ``image`` (its lash line);
    ``open_gap``: the eye's open gap at each of those points (source pixels); ``closed``: how
    far it closes (0 to 1); ``scale``: source pixels per output pixel; ``brow_xy``: the
    brow's landmarks in the output, which the redrawn lid stays below (a brow close above the
    eye, as a turned head's far one, was cut into by it); ``outer_xy``: the eye's outer corner
    in the output, beyond which an eyeliner's wing is painted out; ``sunk``: how far (output
    pixels) each margin point closes below the lower lid's landmarks, onto the lower lid
    itself, which the redrawn lid reaches down by without its top coming down (it bared the
    stretched lit band of s12's lid under the brow as a pale line); ``grain_donors``: the
    pixels of ``image`` the skin's grain that tops up the lid's is read at
    (:func:`skin_grain_donors`: a video's source keeps them, the same in every frame), by
    default read here round the eye.
    """
    order = np.argsort(margin_xy[:, 0])
    margin_xy, margin_from, open_gap = margin_xy[order], margin_from[order], open_gap[order]
    width = float(np.ptp(margin_xy[:, 0]))
    reach = LID_REACH * closed * np.maximum(open_gap, 0.0) / scale  # output pixels
    if sunk is not None:
        reach = reach + sunk[order]
    if width < 4 or reach.max() < 2:
        return
    centre = margin_xy[:, 0].mean()
    # (With room for the edge's softening along the lid to fade out: cut off by the box, it
    # drew a straight edge.)
    ends = np.c_[centre + ARCH_SPAN * (margin_xy[[0, -1], 0] - centre)
                 + [-3 * END_BLUR * width, 3 * END_BLUR * width], margin_xy[[0, -1], 1]]
    up = _up(margin_xy[0], margin_xy[-1])
    # (With a ring of the warp around it, which the lid's tone is matched to, and around which
    # the skin it is in is read.)
    lid_box = PixelBox.around(np.r_[margin_xy, ends, margin_xy - [0.0, float(reach.max())],
                                    margin_xy + float(reach.max()) * up],
                              out.shape[:2], 2 + 0.3 * float(open_gap.max()) / scale
                              + EDGE_RING * width)
    lid_box = lid_box.within(region)
    if min(lid_box.size) < 3:
        return
    # The lash line, found in the source around the margin's points (they may lie on it, or
    # on the eye below it), over the lid's columns: from its darkest row up to where the skin
    # comes back.
    low, high = _lash_line(image, _taken_from(np.arange(lid_box.x0, lid_box.x1, dtype=np.float64),
                                              margin_xy, margin_from), float(open_gap.max()))
    # An eyeliner's wing beyond the eye's corners, which the lid's arch does not reach: left
    # in the warp, it drew a dark hook off the closed lash line's tapered end.
    # (On an eye that shuts: half shut, a wing is still seen with the lash line it belongs
    # to, and painted out it left a pale patch.) It is painted out over a box with room for
    # it: cut off by the lid's, the paint over s1's heavy eyeshadow beyond her outer corner
    # (read as a wing) ended in a straight vertical edge, the side of a dark patch on her
    # shut lid.
    shuts = float(np.clip((closed - WING_FROM) / (WING_FULL - WING_FROM), 0.0, 1.0))
    found = None
    if outer_xy is not None and shuts > 0:
        outer_last = bool(np.linalg.norm(margin_xy[-1] - outer_xy)
                          < np.linalg.norm(margin_xy[0] - outer_xy))
        found = _wing(image, margin_from, low, high, outer_last)
    box = lid_box
    if found is not None:
        room = WING_ROOM * width
        box = PixelBox.around(np.array([[lid_box.x0 - room, lid_box.y0],
                                        [lid_box.x1 - 1 + room, lid_box.y1 - 1]]),
                              out.shape[:2]).within(region)
    h, w = box.size
    xs = np.arange(box.x0, box.x1, dtype=np.float64)
    ys = np.arange(box.y0, box.y1, dtype=np.float64)[:, None]
    # The closed margin, smoothed along the lid (a kink in it, where the last landmark of a
    # lid meets its corner, drew a knob on the lash line).
    bottom = cv2.GaussianBlur(np.interp(xs, margin_xy[:, 0], margin_xy[:, 1])[None, :],
                              (0, 0), sigmaX=max(0.5, MARGIN_SMOOTH * width), sigmaY=0.01,
                              borderType=cv2.BORDER_REPLICATE)[0]
    # An arch over the whole eye (the squeezed lashes reach its corners too), raised along
    # the eye's own tilt.
    across_eye = (xs - centre) / max(width / 2, 1.0)
    top = _arch_top(xs, bottom, margin_xy[0], margin_xy[-1], centre, float(reach.max()))
    if brow_xy is not None:
        brow_xy = _on_brow(brow_xy, source_xy, region, margin_from, float(open_gap.max()))
    if brow_xy is not None:
        top = np.maximum(top, np.minimum(_lower_edge(brow_xy, xs), bottom))
    view = source_xy[box.y0 - region.y0:box.y1 - region.y0, box.x0 - region.x0:box.x1 - region.x0]
    # Where the margin and the top of the redrawn lid are taken from, per column.
    at_margin = _taken_from(xs, margin_xy, margin_from)
    # Nor over a dark line across the eye above its lash line in the source, a glasses'
    # frame: under the lid's top, it was drawn in the tone there, and the frame crossing
    # Grace Hopper's shut lids lost its lower edge.
    # (Read over the eye's own columns: beyond its corners the margin's ends repeat.)
    within = np.abs(across_eye) <= 1.0
    line = _line_above(image, at_margin[within], float(open_gap.max()),
                       float(np.max(at_margin[:, 1] - _column_sample(view, top - box.y0)[:, 1])))
    if line is not None:
        # (And its weight's blur, below, clear of it.)
        below_line = view[..., 1] > (at_margin[:, 1] - np.interp(xs, xs[within], line))[None, :]
        held = box.y0 + LINE_CLEAR + np.where(below_line.any(axis=0),
                                              np.argmax(below_line, axis=0), 0)
        top = np.maximum(top, np.minimum(held, bottom))
    height = bottom - top
    rise = bottom[None, :] - ys  # output pixels above the margin
    at_top = _column_sample(view, top - box.y0)
    # The lash line (tapering to a point at the corners, over skin as thick as the full lash
    # line: a lash line cut off square there, where the warp squeezes a thick eyeliner's end,
    # drew a hook).
    full_lash = np.full(rise.shape, (high - low) / scale)
    lash_rise = full_lash * np.clip((1.0 - np.abs(across_eye)) / LASH_TAPER, 0.0, 1.0)[None, :]
    inside = (rise >= -0.5 * full_lash - 0.5) & (rise <= height[None, :]) \
        & (height[None, :] >= 1.0)
    if not inside.any():
        return
    across = np.clip(rise / np.maximum(height[None, :], 1.0), 0.0, 1.0)
    map_x = at_margin[None, :, 0] + across * (at_top[None, :, 0] - at_margin[None, :, 0])
    # The picture's own grain (its skin's pores, a painting's crackle, a print's noise), from
    # the skin under the eye, read at the source's scale (not stretched, nor repeated).
    grain_y = at_margin[None, :, 1] + float(open_gap.max()) + UNDER_EYE * width * scale \
        + np.abs(rise) * scale
    grain = _grain_under(image, map_x, grain_y,
                         GRAIN_MOTTLE * width * scale, GRAIN_MOTTLE * width)
    # Fade into the warp over the top (smoothly: a ramp's ends show as edges), and across the
    # edges of the region.
    weight = smoothstep((height[None, :] - rise) / np.maximum(FADE * height[None, :], 1.0))
    weight = np.where(rise < 0, np.clip(1 + rise / np.maximum(0.5 * full_lash, 0.5), 0, 1),
                      weight)
    weight = weight * inside
    # (Softened more along the lid: where the arch over the eye ends on a brow, or on a far
    # eye's steep side, a sharp edge would draw a wall.)
    weight = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), sigmaX=max(0.7, END_BLUR * width),
                              sigmaY=0.7)[..., None]
    patch = out[box.slices].astype(np.float32)
    # The closed lid's tone is the skin's around the eye, not the open lid's stretched: a band
    # of eyeshadow, a lit band or a crease stretched over the eye drew a flat eye-shaped patch
    # of another tone. It is read over :data:`AROUND` of the eye's width around the lid (right
    # above it there may be only a brow and the stretched crease), and shaded as a closed lid
    # is: a little darker, and more towards the lash line.
    below = WHITE_BELOW * float(open_gap.max()) / scale
    wing, features = np.zeros(rise.shape, np.float32), 0.0
    if found is not None:
        wing, features = _wing_under(found, view)
        wing *= shuts
    # (Nor the brow over the lid's arch: spread down the lid, its tone darkened the lid's
    # top, a dark band under s42's brows, 12 levels deep, which drew the top of an oval.
    # Beyond the arch the skin round the lid's ends is read as before, a brow's end over the
    # socket's shade with it: left out there, s1's lid ended lighter than the skin beside
    # her outer corners.)
    brow = None if brow_xy is None \
        else (brow_xy, BROW_BELOW, (float(ends[0, 0]), float(ends[1, 0])))
    off_lid = _off_lid(out, box, (weight[..., 0] > 0.02) | ((rise < 0) & (rise > -2 * below))
                       | (wing > 0.05), lid_box, AROUND * width, brow)
    skin_round = _skin_known(out, off_lid)
    if skin_round is None:
        return
    tone = _skin_around(out, box, *skin_round, AROUND * width)
    # (In the colour of the skin right round the eye, where a shut lid's skin continues: the
    # skin further around may be fur or a brow of another colour, a monkey's tan brow round
    # its pale pink lids, which made its shut lids beige discs.)
    colour = _lid_skin_colour(image, margin_from, open_gap, width * scale)
    # (Over the eye it covers, where that skin closes over it; fading out with the lid's
    # weight towards its top and less towards its ends, where it meets the skin around: in
    # that colour to its outline, a grey lit lid band's (s12) or a pink eyeshadow's (s42) drew
    # an eye-shaped patch of another colour on the skin it joins.)
    toward_ends = np.clip(1.0 - (across_eye / ARCH_SPAN)**2, 0.0, 1.0)[None, :] ** SHADE_ENDS
    if colour is not None and (weight[..., 0] > 0.02).any():
        tone = _in_colour(tone, colour, weight[..., 0] > 0.02, weight[..., 0] * toward_ends)
    # No part of the closed lid (its lash line included, taken where the margin may border
    # the white of the eye) is lighter than its skin near the lash line: the skin above it
    # may be a lit brow bone, whose tone spread down the lid drew a pale band on it.
    skin_rows = ((rise > lash_rise) & (rise < 0.6 * height[None, :]))[..., None]
    if not skin_rows.any():
        return
    cap = np.ma.median(np.ma.masked_array(tone, ~np.broadcast_to(skin_rows, tone.shape)),
                       axis=0)
    # (Beyond the arch's ends, where the lid's softened edge and an eyeliner's wing painted
    # out still reach, the cap of the lid's end beside them: the whole lid's median there,
    # darker than s1's end in her lit outer corner, cut it off in a straight vertical edge.)
    has_skin = skin_rows.any(axis=0)[:, 0]
    cols = np.arange(w)
    cap = np.stack([np.interp(cols, cols[has_skin], cap.data[has_skin, c])
                    for c in range(cap.shape[1])], axis=-1)
    tone = np.minimum(tone, cap[None])
    t = np.clip((rise - lash_rise) / np.maximum(height[None, :] - lash_rise, 1.0), 0.0, 1.0)
    # (Less towards its ends: darker there than the skin beside them, they drew a wall.)
    shade = 1.0 - toward_ends \
        * (LID_SHADE + LASH_SHADE * np.clip(1.0 - t / SHADE_REACH, 0.0, 1.0) ** 2)
    # (Its reddest channel darkened least: skin in shadow is deeper in colour, not greyer.)
    skin = tone * _deeper(shade[..., None], tone)
    # The grain no stronger than the skin's round the eye, which the shut lid continues: the
    # cheek under the eye may have what that skin has not (the cartoon s7's painted pores,
    # which made each shut lid a patch of freckles on his smooth skin, its grain 1.4 and 1.2
    # times the skin's beside the eye).
    grain = grain * _no_grainier(out, skin_round, image, map_x, grain_y)
    # ... nor weaker: less its rows' average, the grain under a small eye kept little of the
    # skin's texture, and the shut lid was a smooth patch. (The skin's grain counted from the
    # eye's corner: it moves with the lid.)
    if grain_donors is None:
        grain_donors = skin_grain_donors(image, _eye_outline(margin_from, open_gap))
    corner = (int(round(margin_xy[0, 0])) - box.x0, int(round(margin_xy[0, 1])) - box.y0)
    read_grain = grain
    # The wing painted out of the warp, in the tone of the warp right around it (the skin's
    # further around was lighter than a shadowed socket's) but not of its dark features (a
    # brow, lashes) nor of what is lighter than the skin (the white of the eye the squeezed
    # warp leaves below the corner: read, it painted s42's wing out as a pale wedge), and
    # the grain. (Lighter than the skin: than its lightest, :data:`AROUND_LIGHTEST`, as round
    # the lid, not than the lid's tone capped to its own skin's, which left out the lighter
    # half of the skin and all the lit skin beside s1's outer corner; spread from a quarter
    # of the eye's width down, not from a sixteenth: the wing's middle, far from the skin
    # left, took the median of the box, lashes and lower lid included. The painted-out wing
    # was a dark stroke off her right lid's end with a pale line along the lid, and a dark
    # streak above her left eye's lash line's end.) Nor of the eyeshadow's haze round the wing, the soft
    # edge's width beyond it: read, it painted s1's wing a little darker than the temple and
    # the lid beside it, a streak 8.5 levels deep once the lid's tone was matched to it.
    if wing.any():
        lum = cv2.GaussianBlur(patch, (0, 0), DETAIL_BLUR) @ LUMA
        haze = max(1, int(round(WING_EDGE * width)))
        clear = cv2.dilate((wing >= 0.02).astype(np.uint8),
                           np.ones((2 * haze + 1,) * 2, np.uint8)) == 0
        skin_known = clear & (weight[..., 0] < 0.02) & (lum > features)
        if skin_known.any():
            skin_known &= lum <= np.percentile(lum[skin_known], AROUND_LIGHTEST)
            around = _fill(patch, skin_known,
                           (width / 4, width / 8, width / 16, width / 32, width / 64))
            patch += wing[..., None] * (around + grain - patch)
    # Matched in tone to the warp right around it (a shadowed temple or nose side, the
    # crease's shade above it): the skin read further around left a pale oval with an outline.
    # (In tone only: matched in colour too, the lid took on the colour of a crease or fur
    # above it, a monkey's tan socket rim.) All round the lid's outline above its margin:
    # beside its ends alone, the ring lay by the eye's corners at the lash line's level, in
    # their shadow, and the lit skin above and beside the astronaut's lids was no part of it,
    # so each shut lid was a grey patch on it, its middle 4.6 and 9.2 levels darker than the
    # skin beside its corners (now 4.1 lighter and 7.6 darker). Nor on or above the brow's
    # landmarks, but for a lit strip under it lighter than the lid. (Nor the brow's end; judged
    # by how dark it was against the lid's tone read further around, it went, and so did s12's
    # shadowed sockets, all the skin round his lids.) Below them, where the brow's hairs may
    # reach (:data:`BROW_BELOW`), lies the shade under the brow in a shadowed socket: left out
    # with the brow, s12's shut lids met his sockets only beside their ends, and his right one
    # stayed a pale oval in its shade, its middle 21 levels lighter than the socket round the
    # open eye (now 7). That band is met where no darker than the darkest of the skin round
    # the lid off the brow (:data:`AROUND_DARKEST`): the brow's hairs are darker than the
    # socket. An eyeliner's wing there is met as painted out, in the skin's tone, but not its
    # soft rim, half paint and half the eyeshadow under it: left out, s1's heavy eyeshadow
    # left no skin beside her right lid's outer end, and the shadow beside its inner end
    # darkened all of it, a brown patch 7 levels darker than the skin beside its outer end
    # (0 now).
    beside = (rise > 0) & ((wing < 0.05) | (wing > 0.95))
    with_hairs = _on_or_above(brow, box) if brow is not None else np.zeros(rise.shape, bool)
    on_brow = _on_or_above((brow[0], 0.0, brow[2]), box) if brow is not None else with_hairs
    match = _edge_match(patch, skin, weight[..., 0] > 0.02, beside, on_brow,
                        with_hairs & ~on_brow,
                        np.broadcast_to(np.abs(across_eye) <= 1.0, rise.shape), width)
    skin = skin + match
    # (Topped up once its tone is matched, in the light it is then in, the wing painted out
    # with it too.)
    top_up = _grain_top_up(out, off_lid, skin_round, grain, skin, weight[..., 0] > 0.5, image,
                           grain_donors, corner)
    grain = grain + top_up
    patch += wing[..., None] * top_up
    # (The strip below the margin no lighter than the lid as darkened to meet it: held to
    # the lid's skin before, it stood a level lighter than s7's darkened lid beside his outer
    # corners, a pale strip between the lash line and the lower lid's rim.)
    below_cap = cap[None] + np.minimum(match, 0.0)
    skin = skin + grain
    # The lid's skin reaches down to the margin and over the strip below it, where the lash
    # line is laid on it (:mod:`.lashes`).
    lid = skin
    # Where it fades into the warp, the warp is no lighter than the lid's skin either, nor
    # much darker (feathered in colour, not only in opacity): a lit band there, stretched,
    # showed through as a pale middle, a stretched eyeliner as a dark rim around the lid.
    # (Its tone only: its grain clipped too, the fade was a smooth band, an outline.) The
    # lid and the warp meet in tone, and their grains are mixed keeping their strength (mixed
    # plainly, two grains half and half cancel to a smoother band, an outline).
    # Under the lid's top the lid fades into the warp as the warp is at its top (the skin or
    # the brow it meets there, read along the lid), keeping its own grain: the warp under the
    # fade is the open lid moved down with the closing margin, its crease and lit band, which
    # showed through the fade as a second lash line above the shut one (s12), and its
    # texture stretched into streaks. (At its top row, where the fade begins: read a row above
    # it, under a brow, it was the brow's edge, darker than the row between, and s12's shut
    # lids, met to his sockets' shade, began in a line 8 levels darker than the rows round it.)
    warp_tone = cv2.GaussianBlur(patch, (0, 0), MIX_BLUR)
    lid_tone = cv2.GaussianBlur(lid, (0, 0), MIX_BLUR)
    under_top = (rise <= height[None, :])[..., None]
    top_row = np.clip(np.round(top - box.y0).astype(int), 0, h - 1)
    at_top = cv2.GaussianBlur(warp_tone[top_row, np.arange(w)][None], (0, 0),
                              sigmaX=max(0.7, END_BLUR * width), sigmaY=0.01)
    warp_tone = np.where(under_top, at_top, warp_tone)
    near_skin = np.clip(warp_tone, (1 - RIM_DARKER) * skin, skin)
    under = warp_tone + weight ** NEAR_SKIN_POWER * (near_skin - warp_tone)
    # (Beside it, the warp's detail no stronger than the grain read under the eye: a
    # stretched iris's or lashes' edges, kept, showed as a grey ghost in the fade; and no
    # stronger than the grain topped up, the edges of Grace Hopper's stretched lids and
    # frame came through it as dark specks, 3 pixels more of them round her shut eyes.)
    warp_grain = patch - warp_tone
    most = WARP_GRAIN_MOST * np.maximum(channel_spread(read_grain), 0.5)
    warp_grain += weight ** NEAR_SKIN_POWER * (np.clip(warp_grain, -most, most) - warp_grain)
    mixed = np.where(under_top, lid - lid_tone,
                     (weight * (lid - lid_tone) + (1 - weight) * warp_grain)
                     / np.sqrt(weight**2 + (1 - weight)**2))
    # (The lash line and below it as before, pixel for pixel: it is no grain, and mixed
    # so it thinned out, dlib read s42's shut eyes as open.)
    plain = weight * lid + (1 - weight) * (patch + np.sqrt(weight) * (
        np.clip(patch, (1 - RIM_DARKER) * skin, skin) - patch))
    on_skin = (rise > 0)[..., None]
    patch = on_skin * (weight * lid_tone + (1 - weight) * under + mixed) \
        + (1 - on_skin) * plain
    # Below the margin (and on it, where the lash line tapers), the white of the eye that the
    # squeezed warp leaves along the lower lid (where the eye's landmarks lie well inside its
    # lids, as on a painting) is darkened to the lid's colour, fading out over
    # :data:`WHITE_BELOW` of the open gap.
    depth = -rise / np.maximum(WHITE_BELOW * float(open_gap.max()) / scale, 1.0)
    fade = (np.clip(1.0 - depth, 0.0, 1.0) * (rise < 1) * (height[None, :] >= 1.0))[..., None]
    # (Its tone: its lighter grain cut off, that strip was a smooth band, an outline.)
    tone_now = cv2.GaussianBlur(patch, (0, 0), MIX_BLUR)
    patch -= fade * np.maximum(tone_now - below_cap, 0.0)
    out[box.slices] = np.clip(patch, 0, 255).astype(np.uint8)


def _wing_under(found: tuple[PixelBox, np.ndarray, float], view: np.ndarray
                ) -> tuple[np.ndarray, float]:
    """How much of an eyeliner's wing ``found`` (:func:`_wing`) each output pixel shows, 0 to
    1, where the warp takes it from ``view`` (source pixels, per output pixel), and the
    luminance below which the picture's dark features lie (as dark as the wing)."""
    near, mask, features = found
    return cv2.remap(mask, (view[..., 0] - near.x0).astype(np.float32),
                     (view[..., 1] - near.y0).astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0.0), features


def _wing(image: np.ndarray, lash_from: np.ndarray, low: float, high: float,
          outer_last: bool) -> tuple[PixelBox, np.ndarray, float] | None:
    """An eyeliner's wing in ``image``: the dark pixels (:data:`WING_DARK`) joined to the lash
    line (``low`` to ``high`` above the upper margin ``lash_from``, corner to corner, source
    pixels) that lie beyond its outer corner (the last by x where ``outer_last``) and above
    it, where they end within :data:`WING_REACH` of the eye's width of it (a dark background
    beside the eye, hair, a shadowed socket reach further: they are kept). A soft mask over a
    box of ``image`` and the luminance it is darker than, or None."""
    width = float(np.ptp(lash_from[:, 0]))
    if width < 4:
        return None
    reach = WING_REACH * width
    lifted = lash_from - [0.0, high]
    near = PixelBox.around(np.r_[lash_from, lifted], image.shape[:2], reach)
    h, w = near.size
    gray = cv2.cvtColor(image[near.slices], cv2.COLOR_RGB2GRAY).astype(np.float32)
    gray = cv2.GaussianBlur(gray, (0, 0), 0.7)
    order = np.argsort(lash_from[:, 0])
    (x0, y0), (x1, y1) = lash_from[order[0]], lash_from[order[-1]]
    xs = np.arange(int(np.ceil(x0)), int(np.floor(x1)) + 1, dtype=np.float64)
    rows = np.interp(xs, lash_from[order, 0], lash_from[order, 1]) \
        - 0.5 * (low + high)
    seeds = np.c_[xs - near.x0, rows - near.y0].round().astype(int)
    seeds = seeds[(seeds[:, 0] >= 0) & (seeds[:, 0] < w) & (seeds[:, 1] >= 0)
                  & (seeds[:, 1] < h)]
    if not len(seeds):
        return None
    lash = float(np.percentile(gray[seeds[:, 1], seeds[:, 0]], 10))
    skin = float(np.median(gray))
    if skin - lash < 20:
        return None
    dark = (gray < lash + WING_DARK * (skin - lash)).astype(np.uint8)
    _, labels = cv2.connectedComponents(dark, connectivity=8)
    joined = np.isin(labels, np.setdiff1d(labels[seeds[:, 1], seeds[:, 0]], [0]))
    cols = np.arange(w)[None, :] + near.x0
    ys = np.arange(h)[:, None] + near.y0
    # (And its part above the lash line near the outer corner: a half-shut lid's arch does
    # not reach it, and the wing painted out left it as a dark speck.)
    top = np.interp(cols, lash_from[order, 0], lash_from[order, 1]) - high - 1
    inside = WING_INSIDE * width
    beyond = ((cols > x1) & (ys <= y1 + 1)) if outer_last else ((cols < x0) & (ys <= y0 + 1))
    above = ((cols > x1 - inside) if outer_last else (cols < x0 + inside)) \
        & (cols >= x0) & (cols <= x1) & (ys < top)
    wing = joined & (beyond | above)
    if not wing.any() or wing[0].any() or wing[-1].any() or wing[:, 0].any() \
            or wing[:, -1].any() or (wing.sum() > WING_SHADE * width**2 and np.percentile(
                gray[wing], 10) > lash + WING_INK * (skin - lash)):
        return None
    # (With its soft edge: the stroke's core alone left its outline; and grown by a fixed
    # width, a soft photo's, s1's, left its outer edge, a faint dark line above the shut
    # lash line's end.)
    grow = max(1, int(round(WING_EDGE * width)))
    wing = _soft_edge(gray, wing, dark, lash, beyond | above, grow)
    mask = cv2.dilate(wing.astype(np.uint8), np.ones((2 * grow + 1,) * 2, np.uint8))
    mask[(cols >= x0) & (cols <= x1) & (ys >= top)] = 0  # (not the lash line itself)
    return near, np.clip(2.0 * cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.5 * grow),
                         0.0, 1.0), lash + WING_DARK * (skin - lash)


def _soft_edge(gray: np.ndarray, core: np.ndarray, dark: np.ndarray, lash: float,
               within: np.ndarray, grow: int) -> np.ndarray:
    """``core`` (a dark stroke's pixels in ``gray``) with its soft edge: the pixels joined to
    it (within ``within``, :data:`WING_EDGE_REACH` times ``grow`` at most) that are darker
    than the skin right beside them (``gray`` where it is not ``dark``, spread over twice
    ``grow``) by more than :data:`WING_BACK` of the way from it to ``lash``."""
    # (Nor a highlight: beside a glasses' reflection, all of Grace Hopper's crease and lid
    # read as a soft edge.)
    skin = (dark == 0) & (gray <= np.percentile(gray, AROUND_LIGHTEST))
    sigma = float(2 * grow)
    local = cv2.GaussianBlur(gray * skin, (0, 0), sigma) \
        / np.maximum(cv2.GaussianBlur(skin.astype(np.float32), (0, 0), sigma), 1e-3)
    edge = (gray < local - WING_BACK * (local - lash)) & within
    grown = core.copy()
    step = np.ones((3, 3), np.uint8)
    for _ in range(WING_EDGE_REACH * grow):
        # (Lighter outwards, as a soft edge is: a wrinkle beside it, darker again, is none.)
        darkest = cv2.erode(np.where(grown, gray, np.float32(np.inf)).astype(np.float32), step)
        grown = grown | (edge & (gray >= darkest) & np.isfinite(darkest))
    return grown


def _off_lid(out: np.ndarray, box: PixelBox, drawn: np.ndarray, lid: PixelBox, reach: float,
             brow: tuple[np.ndarray, float, tuple[float, float]] | None = None
             ) -> tuple[PixelBox, np.ndarray]:
    """What of ``out`` within ``reach`` around the ``lid``'s box (that box, and which of its
    pixels) is neither where ``drawn`` (a mask over ``box``) nor on or above a ``brow`` (its
    landmarks, how far its hairs reach below their lower edge, and the columns it is left
    out over): the skin round the eye and its features."""
    wide = PixelBox.around(np.array([[lid.x0, lid.y0], [lid.x1 - 1, lid.y1 - 1]], np.float64),
                           out.shape[:2], reach)
    off = np.ones(wide.size, bool) if brow is None else ~_on_or_above(brow, wide)
    both = box.within(wide)
    off[both.y0 - wide.y0:both.y1 - wide.y0, both.x0 - wide.x0:both.x1 - wide.x0] &= \
        ~drawn[both.y0 - box.y0:both.y1 - box.y0, both.x0 - box.x0:both.x1 - box.x0]
    return wide, off


def _skin_known(out: np.ndarray, room: tuple[PixelBox, np.ndarray]
                ) -> tuple[PixelBox, np.ndarray] | None:
    """The skin of ``out`` in the ``room`` round the lid (:func:`_off_lid`: its box, and which
    of its pixels are skin); None where none is."""
    wide, known = room
    if not known.any():
        return None
    patch = out[wide.slices].astype(np.float32)
    # Not its dark features (lash lines, brows, the corners' shadows) nor an eye's white.
    # (Read through the picture's grain: its noise alone would leave out its darker half.)
    lum = cv2.GaussianBlur(patch @ LUMA, (0, 0), DETAIL_BLUR)
    known = known & (lum >= np.percentile(lum[known], AROUND_DARKEST)) \
        & (lum <= np.percentile(lum[known], AROUND_LIGHTEST))
    # (Nor what is far darker than the skin: a dark background beside a turned head's far
    # eye, hair: it drew a dark smear on that end of the lid.)
    known = known & (lum >= AROUND_DARKER * np.median(lum[known]))
    return wide, known


def _skin_around(out: np.ndarray, box: PixelBox, wide: PixelBox, known: np.ndarray,
                 reach: float) -> np.ndarray:
    """The skin's colour over ``box`` of ``out``: its colours where ``known`` over ``wide``
    (:func:`_skin_known`), spread smoothly over the rest: Gaussians normalised by how much
    known colour they cover, from ``reach`` down to a quarter of it where they cover enough
    (so the lid's edge takes the tone of the skin right beside it: a lit cheek on one side, a
    shadowed temple on the other), and beyond ``wide`` as at its edge."""
    skin = _fill(out[wide.slices].astype(np.float32), known, (reach, reach / 2, reach / 4))
    skin = cv2.copyMakeBorder(skin, max(0, wide.y0 - box.y0), max(0, box.y1 - wide.y1),
                              max(0, wide.x0 - box.x0), max(0, box.x1 - wide.x1),
                              cv2.BORDER_REPLICATE)
    y0, x0 = min(box.y0, wide.y0), min(box.x0, wide.x0)
    return skin[box.y0 - y0:box.y1 - y0, box.x0 - x0:box.x1 - x0]


def _no_grainier(out: np.ndarray, around: tuple[PixelBox, np.ndarray], image: np.ndarray,
                 map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """How much (0 to 1, shape ``map_x.shape + (1,)``) the grain read at ``map_x``, ``map_y``
    in ``image`` is weakened to be no stronger than the skin's round the eye (``around``,
    :func:`_skin_known` of ``out``) typically is: their grains' strengths
    (:func:`~deepexpo.render.texture.grain_strength_at`: the read's where it is read, the
    skin round the eye's median)."""
    wide, known = around
    ys, xs = np.nonzero(known)
    ring = np.median(grain_strength_at(out, (xs + wide.x0).astype(np.float32),
                                       (ys + wide.y0).astype(np.float32)).mean(axis=-1))
    read = grain_strength_at(image, map_x.astype(np.float32), map_y.astype(np.float32))
    return np.minimum(1.0, ring / np.maximum(read.mean(axis=-1, keepdims=True), 1e-3))


def _on_or_above(brow: tuple[np.ndarray, float, tuple[float, float]], box: PixelBox
                 ) -> np.ndarray:
    """Which pixels of ``box`` lie on or above a ``brow`` (its landmarks, how far its hairs
    reach below their lower edge, and the columns it is looked for over)."""
    columns = np.arange(box.x0, box.x1, dtype=np.float64)
    over_eye = (columns >= brow[2][0]) & (columns <= brow[2][1])
    return (np.arange(box.y0, box.y1)[:, None]
            <= brow[1] + _lower_edge(brow[0], columns)[None, :]) & over_eye[None, :]


def _taken_from(columns: np.ndarray, margin_xy: np.ndarray, margin_from: np.ndarray
                ) -> np.ndarray:
    """Where the warp takes the margin ``margin_xy`` (output pixels, by x) from in the source,
    its points ``margin_from``, at each of the output's ``columns``: (columns, 2)."""
    return np.c_[np.interp(columns, margin_xy[:, 0], margin_from[:, 0]),
                 np.interp(columns, margin_xy[:, 0], margin_from[:, 1])]


def _up(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The unit vector square to the line from an eye's corner ``start`` to its corner ``end``
    (left to right), pointing up."""
    along = (end - start) / max(float(np.linalg.norm(end - start)), 1e-6)
    return np.array([along[1], -along[0]])


def _arch_top(xs: np.ndarray, bottom: np.ndarray, start: np.ndarray, end: np.ndarray,
              centre: float, reach: float) -> np.ndarray:
    """The top of the redrawn lid's arch over each column ``xs``, the closed margin lying at
    ``bottom`` there: :data:`ARCH_SPAN` times as long as the eye (from its corner ``start`` to
    its corner ``end``, left to right), centred on the column ``centre``, ``reach`` high in
    its middle, raised square to the line between the corners (:func:`_up`): raised straight
    up over a tilted eye, it fell short of the eye's lower corner, where the eye's white,
    stretched up past it, showed as a white streak (the monkey s22's)."""
    length = float(np.linalg.norm(end - start))
    up = _up(start, end)
    along = np.array([-up[1], up[0]])
    middle = start + along * (centre - start[0]) / max(along[0], 1e-6)
    margin = np.c_[xs, bottom]
    across = (margin - middle) @ along / max(length / 2, 1.0)
    height = reach * np.sqrt(np.clip(1.0 - (across / ARCH_SPAN)**2, 0.0, 1.0))
    arch = margin + height[:, None] * up
    # Its upper edge over each column: the highest of the arch's segments there (leaning, it
    # may fold back over its lower end); none, the margin.
    (x0, y0), (x1, y1) = arch[:-1].T, arch[1:].T
    columns = xs[:, None]
    over = (columns >= np.minimum(x0, x1)) & (columns <= np.maximum(x0, x1))
    run = np.where(x1 != x0, x1 - x0, 1.0)
    rows = np.where(x1 != x0, y0 + (columns - x0) * (y1 - y0) / run, np.minimum(y0, y1))
    top = np.where(over, rows, np.inf).min(axis=1)
    return np.minimum(top, bottom)


def skin_grain_donors(image: np.ndarray, outline: np.ndarray,
                      brow: np.ndarray | None = None) -> np.ndarray:
    """The pixels (x, y) of ``image`` whose grain block
    (:func:`~deepexpo.render.texture.calm_donors`) lies on calm skin round an eye (its
    ``outline``, pixels), within :data:`SKIN_DONORS` of its width: not on the eye nor on its
    ``brow`` (landmarks), grown by :data:`DONORS_CLEAR` of that width. The skin a shut lid
    continues, whose grain tops up the lid's."""
    width = float(np.ptp(outline[:, 0]))
    box = PixelBox.around(outline, image.shape[:2], SKIN_DONORS * width)
    donors = calm_donors(image, box)
    features = np.zeros(box.size, np.uint8)
    for points in (outline,) if brow is None else (outline, brow):
        cv2.fillConvexPoly(features, cv2.convexHull(
            np.round(points - [box.x0, box.y0]).astype(np.int32)), 1)
    # (Grown by a block: a donor is its block's corner.)
    grow = GRAIN_BLOCK + max(1, int(round(DONORS_CLEAR * width)))
    features = cv2.dilate(features, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                              (2 * grow + 1, 2 * grow + 1)))
    at = donors - [box.x0, box.y0] + GRAIN_BLOCK // 2
    return donors[features[at[:, 1], at[:, 0]] == 0]


def _eye_outline(lash_from: np.ndarray, open_gap: np.ndarray) -> np.ndarray:
    """The open eye's outline: its upper margin ``lash_from`` (corner to corner) and, back,
    its open gap ``open_gap`` below each of its points."""
    return np.r_[lash_from, (lash_from + np.c_[np.zeros(len(open_gap)),
                                               np.maximum(open_gap, 0.0)])[::-1]]


def _grain_top_up(out: np.ndarray, room: tuple[PixelBox, np.ndarray],
                  around: tuple[PixelBox, np.ndarray], grain: np.ndarray, skin: np.ndarray,
                  lid: np.ndarray, image: np.ndarray, donors: np.ndarray,
                  corner: tuple[int, int]) -> np.ndarray:
    """What the skin's own grain (``image``'s, scattered from ``donors`` in blocks counted
    from ``corner``) adds to ``grain`` for its finest detail (:data:`TOP_UP_DETAIL`) over
    the ``lid`` to be as strong as the skin's round the eye in the lid's light
    (:func:`_in_its_light` of ``out``, the ``room`` round the lid and the skin ``around`` it,
    :func:`_skin_known`, at the tone of the lid's ``skin``): nothing where it is already.
    In light only, in the colour of the lid's ``skin`` (a photo's colour is coarser than its
    light: the skin's colour noise added, or its grain added as grey, s12's shut lid's hue
    was 0.6 to 0.7 degrees further from his socket's)."""
    if not lid.any() or not len(donors):
        return np.zeros_like(grain)
    in_light = _in_its_light(out, room, around, float(np.median(skin[lid] @ LUMA)))
    ring = _fine_spread(out[room[0].slices].astype(np.float32) @ LUMA, in_light)
    laid = _fine_spread(grain @ LUMA, lid)
    if laid >= ring:
        return np.zeros_like(grain)
    more = scattered_grain(image, donors, (grain.shape[0], grain.shape[1]), corner) @ LUMA
    short = np.sqrt(ring**2 - laid**2) / max(_fine_spread(more, lid), 0.5)
    more = (short * more)[..., None] * skin / np.maximum(skin @ LUMA, 1.0)[..., None]
    # (Nor deeper than TOP_UP_MOST times the skin's spread where the lid's grain is not
    # already: added to it, the skin's grain deepened Grace Hopper's faint specks into dark
    # ones, 44 pixels of them round her shut eyes against her open eyes' 39.)
    most = TOP_UP_MOST * ring
    return np.clip(grain + more, np.minimum(grain, -most), np.maximum(grain, most)) - grain


def _in_its_light(out: np.ndarray, room: tuple[PixelBox, np.ndarray],
                  around: tuple[PixelBox, np.ndarray], tone: float) -> np.ndarray:
    """Which pixels of the ``room`` round the lid (:func:`_off_lid` of ``out``) are calm skin
    (:func:`~deepexpo.render.texture.calm_donors`' blocks) within :data:`LIGHT_NEAR` of the
    lid's ``tone`` (read through the grain): the skin in the lid's light, shade or lit,
    whichever it is; where under :data:`LIGHT_LEAST` pixels are, the skin ``around`` the
    eye (:func:`_skin_known`, over the same box)."""
    wide, off = room
    calm = np.zeros(wide.size, np.uint8)
    corners = calm_donors(out, wide) - [wide.x0, wide.y0]
    calm[corners[:, 1], corners[:, 0]] = 1
    calm = cv2.dilate(calm, np.ones((GRAIN_BLOCK, GRAIN_BLOCK), np.uint8),
                      anchor=(GRAIN_BLOCK - 1, GRAIN_BLOCK - 1)) > 0
    light = cv2.GaussianBlur(out[wide.slices].astype(np.float32) @ LUMA, (0, 0), DETAIL_BLUR)
    lit = off & calm & (np.abs(light - tone) <= LIGHT_NEAR * tone)
    return lit if lit.sum() >= LIGHT_LEAST else around[1]


def _fine_spread(picture: np.ndarray, where: np.ndarray) -> float:
    """The robust spread of the detail of ``picture`` (luminance) finer than
    :data:`TOP_UP_DETAIL` over ``where``."""
    detail = picture - cv2.GaussianBlur(picture, (0, 0), TOP_UP_DETAIL)
    return float(robust_spread(detail[where] - np.median(detail[where])))


def _lid_skin_colour(image: np.ndarray, lash_from: np.ndarray, open_gap: np.ndarray,
                     width: float) -> np.ndarray | None:
    """The colour (Lab a, b) of the skin right round the open eye in ``image`` (its upper
    margin ``lash_from``, corner to corner, and its open gap ``open_gap`` there; ``width``
    wide; source pixels): the skin a shut lid continues (:data:`LID_SKIN`). None where too
    little of it is seen."""
    outline = _eye_outline(lash_from, open_gap)
    reach = LID_SKIN_CLEAR + max(3, int(round(LID_SKIN * width)))
    near = PixelBox.around(outline, image.shape[:2], reach + 2)
    eye = np.zeros(near.size, np.uint8)
    cv2.fillPoly(eye, [np.round(outline - [near.x0, near.y0]).astype(np.int32)], 1)

    def grown(by: int) -> np.ndarray:
        return cv2.dilate(eye, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                         (2 * by + 1, 2 * by + 1))) > 0

    ring = grown(reach) & ~grown(LID_SKIN_CLEAR)
    if ring.sum() < 10:
        return None
    lab = cv2.cvtColor(cv2.GaussianBlur(image[near.slices].astype(np.float32) / 255.0, (0, 0),
                                        DETAIL_BLUR), cv2.COLOR_RGB2Lab)[ring]
    light = lab[:, 0]
    skin = (light >= np.percentile(light, LID_SKIN_DARKEST)) \
        & (light <= np.percentile(light, AROUND_LIGHTEST))
    return np.median(lab[skin][:, 1:], axis=0) if skin.any() else None


def _in_colour(tone: np.ndarray, colour: np.ndarray, lid: np.ndarray, how_far: np.ndarray
               ) -> np.ndarray:
    """``tone`` (RGB) with its colour over the ``lid`` (its median Lab a, b there) moved to
    ``colour``, ``how_far`` of the way at each pixel (0 to 1), its lightness and its changes
    from place to place kept."""
    lab = cv2.cvtColor(np.clip(tone, 0.0, 255.0).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lab[..., 1:] += how_far[..., None] * (colour - np.median(lab[lid][:, 1:], axis=0))
    return cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255.0


def _edge_match(patch: np.ndarray, skin: np.ndarray, drawn: np.ndarray, beside: np.ndarray,
                on_brow: np.ndarray, under_brow: np.ndarray, over_eye: np.ndarray, width: float
                ) -> np.ndarray:
    """How much ``skin`` (the lid's, over the box ``patch`` of the warp) must change to meet the
    warp's tone on a ring :data:`EDGE_RING` of ``width`` wide around where it is ``drawn``
    (on the skin ``beside`` it, ``on_brow`` where lighter than the lid: a lit strip under the
    brow, not its hairs; and ``under_brow``, where its hairs may reach, where no darker than
    the darkest (:data:`AROUND_DARKEST`) of the ring off the brow, or than the lid: the shade
    under the brow in a shadowed socket), spread over the lid: the warp's luminance read
    through its grain, no darker than :data:`AROUND_DARKER` of the ring's median (a lash,
    hair, a dark background there is no skin; a shadowed socket is), the change at most
    :data:`EDGE_DARKER` darker and :data:`EDGE_LIGHTER` lighter (:data:`EDGE_LIGHTER_OVER`
    ``over_eye``), the lid's skin lightened or darkened in its own colour."""
    reach = max(1, int(round(EDGE_RING * width)))
    ring = cv2.dilate(drawn.astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8)) > 0
    light = cv2.GaussianBlur(patch, (0, 0), DETAIL_BLUR) @ LUMA
    ring &= ~drawn & beside
    off_brow = ring & ~on_brow & ~under_brow
    shade = np.percentile(light[off_brow], AROUND_DARKEST) if off_brow.sum() >= 3 else np.inf
    lid_light = skin @ LUMA
    ring &= (~on_brow | (light >= lid_light)) \
        & (~under_brow | (light >= np.minimum(lid_light, shade)))
    if ring.sum() < 3:
        return np.zeros_like(skin)
    ring &= light >= AROUND_DARKER * np.median(light[ring])
    ratio = np.clip(light / np.maximum(lid_light, 1.0), 1.0 - EDGE_DARKER,
                    1.0 + np.where(over_eye, EDGE_LIGHTER_OVER, EDGE_LIGHTER))
    return _fill(skin * (_deeper(ratio[..., None], skin) - 1.0), ring,
                 (width / 2, width / 4, width / 8))


def _deeper(factor: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """How much each channel of ``skin`` changes for its luminance to change by ``factor``,
    as skin in shade or light does: its reddest channel least when darkened (deeper in
    colour, not greyer; darkened channel for channel, a pale lid band's tone turned a grey
    patch in s12's brown socket) and most when lightened."""
    return factor ** (skin.mean(axis=-1, keepdims=True) / np.maximum(skin, 1.0))


def _fill(patch: np.ndarray, known: np.ndarray, sigmas: tuple[float, ...]) -> np.ndarray:
    """``patch``'s colours where ``known`` spread over the rest: Gaussians of ``sigmas``,
    coarse to fine, normalised by how much known colour they cover, each where it covers
    :data:`AROUND_COVER`."""
    mask = known.astype(np.float32)
    skin = np.broadcast_to(np.median(patch[known], axis=0), patch.shape)
    for sigma in sigmas:
        spread = cv2.GaussianBlur(patch * mask[..., None], (0, 0), max(1.0, sigma))
        cover = cv2.GaussianBlur(mask, (0, 0), max(1.0, sigma))[..., None]
        enough = np.clip(cover / AROUND_COVER, 0.0, 1.0)
        skin = enough * spread / np.maximum(cover, 1e-3) + (1 - enough) * skin
    return skin


def _on_brow(brow_xy: np.ndarray, source_xy: np.ndarray, region: PixelBox,
             lash_from: np.ndarray, gap: float) -> np.ndarray | None:
    """``brow_xy`` without the landmarks that the warp (``source_xy`` over ``region``) takes
    from less than :data:`BROW_ABOVE_LASH` of the open ``gap`` above the source's lash line
    ``lash_from`` (a far eye's brow landmark on its open lid held the lid down, and the lid's
    shadow and the iris stretched under it showed through its fade); None where fewer than
    three are left."""
    at = np.clip(np.round(brow_xy).astype(int) - [region.x0, region.y0], 0,
                 [source_xy.shape[1] - 1, source_xy.shape[0] - 1])
    read = source_xy[at[:, 1], at[:, 0]]
    order = np.argsort(lash_from[:, 0])
    lash = np.interp(read[:, 0], lash_from[order, 0], lash_from[order, 1])
    kept = brow_xy[read[:, 1] < lash - BROW_ABOVE_LASH * gap]
    return kept if len(kept) >= 3 else None


def _lower_edge(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The lower edge of a band of ``points`` (a brow's two rows of landmarks: those below the
    line fitted through them all) at the columns ``xs``."""
    slope, offset = np.polyfit(points[:, 0], points[:, 1], 1)
    lower = points[points[:, 1] >= slope * points[:, 0] + offset]
    order = np.argsort(lower[:, 0])
    return np.interp(xs, lower[order, 0], lower[order, 1])


def _grain_under(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, mottle: float,
                 along: float) -> np.ndarray:
    """The fine texture of ``image`` (:func:`~deepexpo.render.texture.grain_at`, its
    mottling finer than ``mottle``: a crease under the eye in it drew a second lid's edge) at
    ``map_x``, ``map_y`` (source pixels, one row of them per row of the lid), less what runs
    along its rows further than about ``along`` (pixels of the lid)."""
    detail = grain_at(image, map_x, map_y, mottle)
    # Less its average along each row, over ``along`` on either side: a row of the source
    # that runs along a line (a lower lid's lashes, a wrinkle) drew a light or dark band
    # across the closed lid; and where the lines curve across the rows (an old face's creases
    # under the eye, taken out by the row's whole average only where they run straight),
    # arcs round a second, open eye, their dark ends as fragments (Grace Hopper's).
    return detail - cv2.GaussianBlur(detail, (0, 0), sigmaX=max(along, 0.5), sigmaY=0.01,
                                     borderType=cv2.BORDER_REFLECT)


def _column_sample(view: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The map at fractional ``rows``, one per column of ``view``."""
    r = np.clip(rows, 0, view.shape[0] - 1.001)
    r0 = r.astype(int)
    f = (r - r0)[:, None]
    cols = np.arange(view.shape[1])
    return view[r0, cols] * (1 - f) + view[r0 + 1, cols] * f


def _profile_above(image: np.ndarray, margin: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The gray level of ``image`` ``steps`` (source pixels) above each of the points
    ``margin``: (steps, points)."""
    xs = np.repeat(margin[None, :, 0], len(steps), 0)
    ys = margin[None, :, 1] - steps[:, None]
    # (Only the eye's surroundings turned gray: this runs twice per closing eye, on every
    # frame of a video.)
    box = PixelBox.around(np.c_[xs.ravel(), ys.ravel()], image.shape[:2], 2)
    gray = cv2.cvtColor(image[box.slices], cv2.COLOR_RGB2GRAY).astype(np.float32)
    return cv2.remap(gray, (xs - box.x0).astype(np.float32), (ys - box.y0).astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _middle(n: int) -> slice:
    """The middle columns of ``n`` across an eye, its tenth at either end left out."""
    return slice(n // 10, max(n // 10 + 1, n - n // 10))


def _across(profile: np.ndarray) -> np.ndarray:
    """The rows of a :func:`_profile_above` read across the eye's width: the median of its
    middle columns (the iris, dark too but in a few columns only, is no row's)."""
    return np.median(profile[:, _middle(profile.shape[1])], axis=1)


def _lash_line(image: np.ndarray, margin: np.ndarray, gap: float) -> tuple[float, float]:
    """How far above the points ``margin`` (source pixels) the lash line begins (its darkest
    row) and ends (a third of the way back from it to the skin above, at most
    :data:`LASH_MOST` of the eye's width): the rows are read across the eye's width
    (:func:`_across`)."""
    below, span = max(1, int(round(0.3 * gap))), max(4, int(round(1.2 * gap)))
    steps = np.arange(-below, span, dtype=np.float32)
    rows = _across(_profile_above(image, margin, steps))
    darkest, _, back = _lash_row(rows, steps, gap)
    lighter = np.flatnonzero(rows[darkest:] >= back)
    end = darkest + (int(lighter[0]) if len(lighter) else 1)
    low, high = float(steps[max(darkest - 1, 0)]), float(steps[max(end, darkest + 1)])
    # A heavy eyeliner is no thicker on the closed lid than a lash line: its darkest part.
    high = min(high, low + max(LASH_MOST * float(np.ptp(margin[:, 0])), 2.0))
    return low, max(high, low + 1.0)


def _lash_row(rows: np.ndarray, steps: np.ndarray, gap: float) -> tuple[int, float, float]:
    """The lash line in ``rows`` read across the eye (:func:`_across`) ``steps`` above its
    upper margin: its darkest row within half the open ``gap``, the skin's level above it,
    and the level a third of the way back from it to the skin, where it ends."""
    darkest = int(np.argmin(rows[:max(2, int(np.searchsorted(steps, 0.5 * gap)))]))
    skin = float(np.percentile(rows[darkest:], 75))
    return darkest, skin, float(rows[darkest] + (skin - rows[darkest]) / 3)


def _line_above(image: np.ndarray, margin: np.ndarray, gap: float, reach: float
                ) -> np.ndarray | None:
    """How far above each of the points ``margin`` (source pixels, the eye's upper margin
    from corner to corner) the lower edge of a dark line across the eye lies, past where
    the lash line is looked for (:func:`_lash_row`) and up to ``reach``: a glasses' frame.
    Its pixels are darker than the lash line's darkest row, with skin between them and the
    lash line, in :data:`LINE_ACROSS` of the eye's columns (a crease's shadow, a wrinkle, a
    brow's fringe is lighter or shorter). None where there is no such line, or no dark lash
    line under it (its darkest row lighter than :data:`LINE_UNDER` of the skin: above a
    monkey's pale lash row the dark was its eye's own rim; by a small eye's white, s12's
    turned, its lash line itself)."""
    steps = np.arange(0, max(4, int(np.ceil(reach))) + 1, dtype=np.float32)
    profile = _profile_above(image, margin, steps)
    rows = _across(profile)
    darkest, skin, back = _lash_row(rows, steps, gap)
    lighter = np.flatnonzero(rows[darkest:] >= back)
    if not len(lighter) or rows[darkest] >= LINE_UNDER * skin:
        return None
    start = darkest + int(lighter[0])
    above = profile[start:]
    # (Past skin in each column: the lash line may end higher in some.)
    past_skin = np.maximum.accumulate(above >= back, axis=0)
    dark = past_skin & (above < rows[darkest]) & (steps[start:, None] >= 0.5 * gap)
    n = dark.shape[1]
    found = dark.any(axis=0)
    if found[_middle(n)].mean() < LINE_ACROSS:
        return None
    edge = steps[start + np.argmax(dark, axis=0)]
    columns = np.arange(n)
    return np.interp(columns, columns[found], edge[found])


def soften_seam(out: np.ndarray, margin_xy: np.ndarray, eye_width: float,
                keep_below: bool = False) -> None:
    """Blur ``out`` (in place) across the polyline ``margin_xy`` (the shut eye's meeting lids,
    corner to corner, in pixels), fading out within :data:`SEAM_HALF_HEIGHT` of it.
    ``keep_below``: only above the line, where a risen lower lid squeezed the eye it slid
    over; the lid's own edge below it stays sharp (blurred with the squeeze, the thin pale
    rim of s12's small lower lids was washed out, and their rise with it), and only the
    join, within :data:`KEPT_BELOW_REACH` (softened as wide as a shut eye's seam, s7's
    iris, kept whole down to the lid, was blurred 3-4 px above it)."""
    half = max(1.0, SEAM_HALF_HEIGHT * eye_width)
    sigma = max(0.6, SEAM_BLUR * eye_width)
    if keep_below:
        half, sigma = KEPT_BELOW_REACH, min(sigma, KEPT_BELOW_REACH)
    box = PixelBox.around(margin_xy, out.shape[:2], half + 3 * sigma + 2)
    if box.size[0] < 3 or box.size[1] < 3:
        return
    patch = out[box.slices]
    band = np.zeros(box.size, np.float32)
    along = margin_xy[np.argsort(margin_xy[:, 0])] - [box.x0, box.y0]
    line = np.round(along * 4)
    cv2.polylines(band, [line.astype(np.int32)], False, 1.0, max(1, int(round(2 * half))),
                  cv2.LINE_AA, shift=2)
    alpha = cv2.GaussianBlur(band, (0, 0), sigma)[..., None]
    alpha = np.clip(alpha / max(float(alpha.max()), 1e-6), 0.0, 1.0)
    if keep_below:
        line_y = np.interp(np.arange(box.size[1]), along[:, 0], along[:, 1])
        below = np.arange(box.size[0])[:, None] - line_y[None]
        alpha *= np.clip(1.0 - below / KEPT_BELOW_FADE, 0.0, 1.0)[..., None]
    soft = cv2.GaussianBlur(patch, (0, 0), sigmaX=0.5 * sigma, sigmaY=sigma).astype(np.float32)
    patch[...] = (alpha * soft + (1 - alpha) * patch).astype(np.uint8)
