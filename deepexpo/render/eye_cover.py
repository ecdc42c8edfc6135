"""A placed face's closing eye covered by the fur, skin or paint around it.

An eye taller than the skin above it (an animal's, a cartoon's) has no lid skin to draw down
over it (:mod:`.lids` does that for a human eye): stretched over the eye, the little skin
between it and the brow would streak fur or smear paint. So the part of the eye a closing lid
now covers is filled in from around it (a membrane of the surrounding colours and the fur's
texture mirrored across the eye's edge), with a thin line where its lids meet, antialiased and
no darker than the picture's own fine lines (a photo's; a drawing's in its ink).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..geometry.boxes import PixelBox
from .texture import calm_donors, masked_blur, robust_spread, scattered_grain


def cover_eye(out: np.ndarray, top: np.ndarray, bottom: np.ndarray, lid: np.ndarray,
              rim: float, ink: np.ndarray, brow: np.ndarray,
              painted: np.ndarray | None = None,
              grain: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Where a closing lid now covers an eye (a cat's, a cartoon's: no lid skin above it to
    draw down), paint that part of ``out`` (in place) with the fur, skin or paint around the
    eye: stretched over the eye, what little skin lies above it would streak fur or smear
    paint, and repeated, it would repeat whatever lies above it (a brow).

    The cover's colours are the smoothest surface that meets those around the eye on every
    side (a membrane: no patches, no rays from its edge), and its fine texture is the fur's
    or skin's above and below the eye, mirrored across the eye's edge at its own scale and
    blended from one to the other down the eye (no stretch, no streaks), its coarser strands
    shifted in (unmirrored, they keep their slant), but for what runs
    round the eye (its rim, its margins, wrinkles round it: mirrored, arcs that draw the eye
    again), which is the picture's grain. A pale ring joined to the eye (a monkey's) is the
    skin the lid continues: the cover reaches into it and takes its colours. Shut, the
    cover takes the lower lid's margin too.

    ``top``, ``bottom``: the open eye's upper and lower margins in ``out``; ``lid``: its
    closing lid (each (K, 2), corner to corner, in the same order); ``rim``: how far beyond the
    margins the eye's dark rim reaches, in pixels; ``ink``: the eye's own dark colour (RGB,
    :func:`eye_ink`), for the line where its shut lids meet; ``brow``: the brow over the eye
    (its landmarks in ``out``), which nothing covered reaches; ``painted``: a mask of ``out``
    on which the pixels painted are marked; ``grain``: the picture the grain is read from and
    its pixels to read it at (:func:`~deepexpo.render.texture.calm_donors`: a source's, the
    same in every frame of a video), by default ``out``'s round the eye. The fill takes
    nothing from the eye itself, which shows below the lid."""
    height_px = float(np.ptp(np.r_[top, bottom][:, 1]))
    box = PixelBox.around(np.r_[top, bottom, lid], out.shape[:2],
                          2 * rim + 4.0 + max(2.0, 0.6 * height_px))
    left, right = top[0], top[-1]
    length = float(np.linalg.norm(right - left))
    if box.size[0] < 3 or box.size[1] < 3 or length < 1.0:
        return
    axis = (right - left) / length
    down = np.array([-axis[1], axis[0]])
    ys, xs = np.mgrid[box.y0:box.y1, box.x0:box.x1].astype(np.float64)
    rel = np.stack([xs - left[0], ys - left[1]], axis=-1)
    u, v = rel @ axis / length, rel @ down

    def height(curve: np.ndarray) -> np.ndarray:
        cu = (curve - left) @ axis / length
        order = np.argsort(cu)
        return np.interp(u, cu[order], ((curve - left) @ down)[order])

    size = 2 * int(np.ceil(rim)) + 1
    grow = np.ones((size, size), np.uint8)
    top_v, bottom_v, lid_v = height(top), height(bottom), height(lid)
    eye = (v >= top_v) & (v <= bottom_v) & (u > 0) & (u < 1)
    across = eye & (bottom_v > top_v)
    shut = float(np.mean(np.clip((lid_v - top_v)[across] / (bottom_v - top_v)[across],
                                 0.0, 1.0))) if across.any() else 0.0
    strength = float(np.clip((shut - LID_LINE_FROM) / (LID_LINE_FULL - LID_LINE_FROM), 0.0, 1.0))
    # A shut eye's lower lid margin too (its wet edge's highlights, a pale rim): the upper lid
    # covers it (an eye half shut keeps what shows of it).
    shut_through = strength ** 2
    below_eye = (v > bottom_v) & (v <= bottom_v + COVER_LOWER_MARGIN * shut_through * height_px) \
        & (u > 0) & (u < 1)
    hole = cv2.dilate((eye | below_eye).astype(np.uint8), grow) > 0
    patch = out[box.slices].astype(np.float32)
    reach = max(3.0, COVER_SHADOW_REACH * height_px)
    # Below the brow, which may lie within a shadow's reach (a cat's, a drawing's).
    shadow = _eye_shadow(patch, hole, reach) & (v > float(((brow - left) @ down).max()) + 1.0)
    # The rim along the lid too, and the eye's shadow above it.
    # (Shut past :data:`LID_LINE_FULL`, the sliver of eye left below the lid too: the line
    # marks where the lids meet.)
    lid_edge = lid_v + rim + shut_through * (np.maximum(bottom_v - lid_v, 0.0)
                                             + COVER_LOWER_MARGIN * height_px)
    covered = (hole & (v <= lid_edge)) | (shadow & (v <= lid_edge + reach))
    if not covered.any():
        return
    hole |= shadow
    # Filled from skin, not from a pale margin around the eye, which, next to it, is covered.
    pale, eyes = _pale_margin(patch, hole, reach)
    margin = _grown(hole, eyes, COVER_PALE_REACH * reach)
    covered |= margin & (v <= lid_edge + reach)
    hole |= margin
    # A pale margin joined to the eye further out (a monkey's pale ring round its eye) is the
    # skin its shut lid continues: the cover reaches into it (its inner edge, where the eye's
    # dark rim blurs into it, would outline the cover) and takes its colours from its body
    # (from its inner edge, or from the skin beyond it, the cover was a darker disc in it).
    ringed = _grown(hole, pale, COVER_RING_REACH * height_px).sum() > COVER_RING * hole.sum()
    if ringed:
        size = 2 * COVER_RING_CLEAR + 1
        into = cv2.dilate(covered.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
        into &= ~hole
        covered |= into
        hole |= into
    known = (~hole).astype(np.float32)
    colours = _membrane(patch, known)
    # The fur's strands too, shifted in; not into a ring's smooth skin (its wrinkles, shifted
    # in), nor a drawing's paint (it has none to carry).
    how_photo = 0.0 if ringed else _photo_likeness(patch, hole)
    strands = how_photo * _shifted_texture(patch, known, hole) if how_photo > 0 else 0.0
    # Where a shut eye's lids meet (not along the shut lid itself, which lies on the open
    # eye's lower edge: drawn there, from corner to corner, the line traced the old eye's rim,
    # a ring's lower half; a shut lid's line sags less than the eye's round lower edge).
    chord = lid[0] + np.outer((lid - lid[0]) @ axis / length, right - left)
    curve = chord + (1.0 - (1.0 - LID_LINE_SAG) * strength) * (lid - chord) - [box.x0, box.y0]
    line_width = float(np.clip(LID_LINE * height_px, 1.0, 4.0))
    if strength > 0 and how_photo > 0:  # the crease smooth: strands across it hid the line
        strands = strands * (1.0 - strength * _smooth_line(
            curve, box.size, line_width + 2 * LID_LINE_CLEAR))[..., None]
    # (The grain counted from the eye's corner: it moves with the eye.)
    picture, donors = grain if grain is not None else (out, calm_donors(out, box))
    corner = (int(round(left[0])) - box.x0, int(round(left[1])) - box.y0)
    fill = colours + np.where(hole[..., None],
                              _unringed(_mirrored_detail(patch, known, hole), hole,
                                        scattered_grain(picture, donors, box.size, corner))
                              + strands,
                              patch - cv2.GaussianBlur(patch, (0, 0), COVER_DETAIL_BLUR))
    # A soft edge a pixel wide, just outside the covered part: inside it, the edge's pixels
    # were half the eye's rim, a faint ring of the old eye round the cover.
    edge = cv2.dilate(covered.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    weight = np.maximum(cv2.GaussianBlur(edge.astype(np.float32), (0, 0), 0.7) * edge, covered)
    weight = weight[..., None]
    cover = weight * fill + (1 - weight) * patch
    # A shut eye shows where its lids meet: a thin line in the eye's own dark colour.
    if strength > 0:
        line = _smooth_line(curve, box.size, line_width)
        taper = np.sqrt(np.clip(np.sin(np.pi * np.clip(u, 0.0, 1.0)), 0.0, 1.0))
        dark = _line_darkness(patch, hole, ink)
        line = (line * taper * strength * dark)[..., None]
        cover = line * ink + (1 - line) * cover
    out[box.slices] = np.clip(cover, 0, 255).astype(np.uint8)
    if painted is not None:
        painted[box.slices] |= weight[..., 0] > 0


def eye_ink(image: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """An eye's own dark colour (RGB): the median of the darkest tenth of ``image`` inside
    the eye's ``outline`` (pixels): its lashes, rim and pupil, a drawing's ink."""
    box = PixelBox.around(outline, image.shape[:2], 2)
    mask = np.zeros(box.size, np.uint8)
    cv2.fillPoly(mask, [np.round(outline - [box.x0, box.y0]).astype(np.int32)], 1)
    pixels = image[box.slices][mask > 0].astype(np.float32)
    if not len(pixels):
        return image[box.slices].reshape(-1, 3).astype(np.float32).mean(axis=0)
    darkness = pixels.mean(axis=1)
    return np.median(pixels[darkness <= np.percentile(darkness, 10)], axis=0)


#: How far from the fur to the eye's own dark colour a shut eye's lid line goes, at most
#: :data:`LID_LINE_DARK`: in a photo (its fine detail's spread, grain and fur, past
#: :data:`PHOTO_GRAIN` grey levels, fully from the second) as dark against the lid as
#: :data:`LID_LINE_CONTRAST` times the picture's own darkest fine lines around the eye (the
#: first percentile of its lightness against its blur: soft creases, hair shadows; a line in
#: the eye's ink reads as drawn on a photo), but no less than :data:`LID_LINE_FAINTEST`; in a
#: drawing (smooth paint, little grain: its eyes are drawn in ink) the most.
LID_LINE_CONTRAST, LID_LINE_FAINTEST = 3.0, 0.25
PHOTO_GRAIN = (1.5, 2.5)
#: An eye shut past this fraction of its opening shows the line where its lids meet, fully
#: from the second (a person's blink, measured, seldom shuts past 0.9: a cover with no line
#: is a blank oval): this fraction of the eye's height thick (1 to 4 pixels), this much of
#: the way from the fur to the eye rim's own dark colour; sagging this fraction of the shut
#: lid's sag below the line between the eye's corners.
LID_LINE_FROM, LID_LINE_FULL = 0.6, 0.85
LID_LINE, LID_LINE_DARK, LID_LINE_SAG = 0.05, 0.55, 0.7
#: The fur's strands shifted into a cover keep this many pixels clear of its lid line.
LID_LINE_CLEAR = 1.5
#: A shut eye's cover reaches this fraction of its height below its open outline (its lower
#: lid's margin).
COVER_LOWER_MARGIN = 0.15
#: A pale margin joined to a covered eye within this fraction of its height from it, its
#: area more than this fraction of the eye's, is a ring round it, whose inner edge this many
#: pixels wide the cover takes.
COVER_RING_REACH, COVER_RING, COVER_RING_CLEAR = 0.3, 0.1, 2
#: The scale (pixels) that separates a cover's colours (smooth, a membrane) from its fine
#: texture (mirrored from around the eye).
COVER_DETAIL_BLUR = 2.0
#: An eye's shadow (a dark rim or socket beyond the placed points, a painted eye's shading):
#: pixels around the eye, up to this fraction of its height away and joined to it, whose
#: lightness is this many spreads (of the skin's around the eye) from the skin's.
COVER_SHADOW_REACH, COVER_SHADOW_SPREADS = 0.4, 3.0
#: The scale (pixels) up to which a cover carries the fur's coarser texture (its strands),
#: shifted in from beside the eye, at most this many times as strong as found there; none
#: where the structure round the eye runs round it (:func:`_across_ratio` under the first),
#: fully from the second.
COVER_TEXTURE_BLUR, COVER_TEXTURE_GAIN = 5.0, 2.0
COVER_TEXTURE_ACROSS = (0.4, 0.6)
#: The mirrored texture is kept within this many spreads of the skin's fine texture, and
#: taken from beyond this many pixels of the eye.
COVER_DETAIL_CLIP, COVER_EDGE_SKIP = 2.5, 3
#: A pixel around an eye this much lighter (Lab L) and less colourful (chroma) than the skin
#: beyond it is no skin (:func:`_paler`).
COVER_PALER, COVER_GREYER = 4.0, 4.0
#: ... and covered where it is joined to the eye, up to this fraction of a shadow's reach.
COVER_PALE_REACH = 0.3


def _smooth_line(curve: np.ndarray, size: tuple[int, int], width: float) -> np.ndarray:
    """A line ``width`` pixels wide along ``curve`` (K, 2; x, y in a ``size`` (H, W) box),
    rounded at its points and antialiased: how much of each pixel it covers (0-1), softened
    by half a pixel, as a photo's lines are."""
    for _ in range(3):  # corners cut (Chaikin): no kinks at the lid's landmarks
        cut = np.stack([0.75 * curve[:-1] + 0.25 * curve[1:],
                        0.25 * curve[:-1] + 0.75 * curve[1:]], axis=1).reshape(-1, 2)
        curve = np.r_[curve[:1], cut, curve[-1:]]
    ys, xs = np.mgrid[0:size[0], 0:size[1]].astype(np.float32)
    pixels = np.stack([xs.ravel(), ys.ravel()], axis=1)
    start, step = curve[:-1].astype(np.float32), np.diff(curve, axis=0).astype(np.float32)
    t = ((pixels[:, None] - start) * step).sum(axis=2) / np.maximum((step**2).sum(axis=1), 1e-6)
    nearest = start + np.clip(t, 0.0, 1.0)[..., None] * step
    dist = np.linalg.norm(pixels[:, None] - nearest, axis=2).min(axis=1).reshape(size)
    line = np.clip(0.5 * width + 0.5 - dist, 0.0, 1.0).astype(np.float32)
    return cv2.GaussianBlur(line, (0, 0), 0.5)


def _line_darkness(patch: np.ndarray, hole: np.ndarray, ink: np.ndarray) -> float:
    """How far a shut eye's lid line goes from the fur around ``hole`` (an eye in ``patch``)
    to the eye's ``ink`` (:data:`LID_LINE_CONTRAST`): in a photo, as dark as its own fine
    lines allow; in a drawing, as its ink."""
    light = patch.mean(axis=2)
    fine = (light - cv2.GaussianBlur(light, (0, 0), 1.5))[~hole]
    if not len(fine):
        return LID_LINE_DARK
    depth = float(np.median(light[~hole]) - ink.mean())
    darkest = -float(np.percentile(fine, 1))
    photo = float(np.clip(LID_LINE_CONTRAST * darkest / max(depth, 1.0),
                          LID_LINE_FAINTEST, LID_LINE_DARK))
    how_photo = _photo_likeness(patch, hole)
    return how_photo * photo + (1.0 - how_photo) * LID_LINE_DARK


def _photo_likeness(patch: np.ndarray, hole: np.ndarray) -> float:
    """How much ``patch`` around ``hole`` is a photo (0-1): its fine detail's spread (grain,
    fur) past :data:`PHOTO_GRAIN` grey levels; a drawing's smooth paint has little."""
    light = patch.mean(axis=2)
    fine = (light - cv2.GaussianBlur(light, (0, 0), 1.5))[~hole]
    if not len(fine):
        return 0.0
    grain = float(robust_spread(fine))
    low, high = PHOTO_GRAIN
    return float(np.clip((grain - low) / (high - low), 0.0, 1.0))

def _eye_shadow(patch: np.ndarray, hole: np.ndarray, reach: float) -> np.ndarray:
    """The pixels within ``reach`` of the ``hole`` (an eye and its rim), joined to it, unlike
    the skin around it in lightness: the rest of the eye's dark rim, its shadow."""
    size = 2 * int(np.ceil(reach)) + 1
    band = cv2.dilate(hole.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
    band &= ~hole
    if not band.any():
        return np.zeros_like(hole)
    light = cv2.GaussianBlur(patch.mean(axis=2), (0, 0), 1.5)  # the grain is no shadow
    skin = np.median(light[band])
    spread = max(float(robust_spread(light[band] - skin)), 4.0)
    unlike = band & (np.abs(light - skin) > COVER_SHADOW_SPREADS * spread)
    # Thin lines left out (a warp's smear, a drawing's stroke): through them, the shadow
    # would reach a brow.
    unlike = cv2.morphologyEx(unlike.astype(np.uint8), cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))) > 0
    grown = hole | _grown(hole, unlike, reach)
    # Whole, without pinholes: what it leaves out in it would show as specks.
    whole = cv2.GaussianBlur(grown.astype(np.float32), (0, 0), 1.5) > 0.35
    return whole & band


def _grown(hole: np.ndarray, through: np.ndarray, reach: float) -> np.ndarray:
    """The pixels of ``through`` joined to ``hole`` within ``reach`` steps (grown from it
    through them only, a pixel at a time)."""
    joined, grown = np.zeros_like(hole), hole.copy()
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for _ in range(int(np.ceil(reach))):
        step = (cv2.dilate(grown.astype(np.uint8), cross) > 0) & through & ~grown
        if not step.any():
            break
        joined |= step
        grown |= step
    return joined


def _pale_margin(patch: np.ndarray, hole: np.ndarray, reach: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The pixels within ``reach`` of the ``hole`` (an eye and its rim) paler than the skin
    beyond them (lighter and greyer, each by more than the skin's own spread: an eye's white
    or a pale lid margin left outside the placed points, a monkey's pale ring), and those of
    them in the eye's own colours (its white): a cover filled from those is a pale disc in
    the dark socket, an empty eye socket, where a shut lid is skin."""
    size = 2 * int(np.ceil(reach)) + 1
    kernel = np.ones((size, size), np.uint8)
    band = cv2.dilate(hole.astype(np.uint8), kernel) > 0
    ring = (cv2.dilate(band.astype(np.uint8), kernel) > 0) & ~band
    lab = cv2.cvtColor(np.clip(patch, 0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)
    lab = cv2.GaussianBlur(lab.astype(np.float32), (0, 0), 1.5)  # the grain is no margin
    chroma = np.linalg.norm(lab[..., 1:] - 128.0, axis=-1)
    if not ring.any():
        return np.zeros_like(hole), np.zeros_like(hole)
    # The skin: the more colourful half of the ring (a monkey's pink, not its pale fur).
    skin_part = ring & (chroma >= np.median(chroma[ring]))
    skin = np.median(lab[skin_part], axis=0)
    skin_chroma = float(np.median(chroma[skin_part]))
    spread_light = float(robust_spread(lab[ring][:, 0] - skin[0]))
    spread_chroma = float(robust_spread(chroma[ring] - skin_chroma))
    greyer = band & ~hole & (chroma < skin_chroma - max(COVER_GREYER, spread_chroma))
    pale = greyer & (lab[..., 0] > skin[0] + max(COVER_PALER, spread_light))
    # Greyer and in the eye's own colours (its white stretched past the placed points): the
    # eye's, closer to its colour than to the skin's.
    eye = np.median(lab[hole], axis=0)
    eyes = greyer & (np.linalg.norm(lab - eye, axis=-1) < np.linalg.norm(lab - skin, axis=-1))
    return pale, eyes


def _membrane(patch: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``patch``'s smooth colours where ``known`` is 0 (a hole): the harmonic surface that
    meets its colours (a little smoothed, from known pixels only) all round the hole."""
    near = masked_blur(patch, known, COVER_DETAIL_BLUR)
    fixed = known > 0
    # Relaxed to the smoothest surface through the colours around the hole on a coarse grid
    # first (it is smooth: a few cells across the eye hold it), then at full resolution.
    h, w = known.shape
    step = max(1, max(h, w) // _MEMBRANE_CELLS)
    if step > 1:
        size = (max(2, w // step), max(2, h // step))
        weight = cv2.resize(known, size, interpolation=cv2.INTER_AREA)
        coarse = cv2.resize(near * known[..., None], size, interpolation=cv2.INTER_AREA) \
            / np.maximum(weight, 1e-4)[..., None]
        fill = cv2.resize(_relaxed(coarse, weight > 0.5, masked_blur(coarse, weight, 4.0)),
                          (w, h), interpolation=cv2.INTER_LINEAR)
        return _relaxed(near, fixed, fill, 2 * step)
    return _relaxed(near, fixed, masked_blur(patch, known, 0.25 * max(h, w)))


#: The coarse grid a cover's colours are first relaxed on: cells across its box.
_MEMBRANE_CELLS = 24


def _relaxed(values: np.ndarray, fixed: np.ndarray, start: np.ndarray,
             steps: int | None = None) -> np.ndarray:
    """``start`` relaxed (Jacobi) towards the harmonic surface through ``values`` where
    ``fixed``, ``steps`` times (by default twice the larger side)."""
    fill = start.astype(np.float32).copy()
    np.copyto(fill, values, where=fixed[..., None])
    for _ in range(steps or 2 * max(fixed.shape)):
        fill = cv2.blur(fill, (3, 3), borderType=cv2.BORDER_REPLICATE)
        np.copyto(fill, values, where=fixed[..., None])
    return fill


def _mirrored_detail(patch: np.ndarray, known: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The fine texture around a hole, carried into it: each column's texture above the hole
    mirrored down across its upper edge, and below it mirrored up, blended from the one to the
    other down the hole (as strong in the middle as at the edges); none where the mirror
    falls outside the patch or into the hole."""
    detail = (patch - masked_blur(patch, known, COVER_DETAIL_BLUR)) * known[..., None]
    # Within the texture's own spread (robust: a drawing's flat paint has none, and its few
    # lines would be mirrored into arcs).
    sample = detail[known > 0]
    spread = float(robust_spread(sample)) if len(sample) else 0.0
    detail = np.clip(detail, -COVER_DETAIL_CLIP * spread, COVER_DETAIL_CLIP * spread)
    h, w = hole.shape
    rows = np.arange(h, dtype=np.float32)[:, None]
    any_hole = hole.any(axis=0)
    first = np.where(any_hole, hole.argmax(axis=0), 0).astype(np.float32)
    last = np.where(any_hole, h - 1 - hole[::-1].argmax(axis=0), 0).astype(np.float32)
    # Mirrored across lines a little beyond the edges: next to a hard-edged eye, the picture
    # rings (JPEG), which mirrored would draw a speckled rim.
    skip = COVER_EDGE_SKIP
    t = np.clip((rows - first) / np.maximum(last - first, 1.0), 0.0, 1.0)
    cols = np.broadcast_to(np.arange(w, dtype=np.float32), (h, w))
    parts, weights = [], []
    for source_rows, weight in ((2 * (first - skip) - 1 - rows, 1 - t),
                                (2 * (last + skip) + 1 - rows, t)):
        inside = (source_rows >= 0) & (source_rows <= h - 1)
        source_rows = np.clip(source_rows, 0, h - 1).astype(np.float32)
        valid = cv2.remap(known, cols, source_rows, cv2.INTER_LINEAR) > 0.99
        parts.append(cv2.remap(detail, cols, source_rows, cv2.INTER_LINEAR))
        weights.append((weight * (inside & valid))[..., None])
    norm = np.sqrt(weights[0] ** 2 + weights[1] ** 2)
    return (weights[0] * parts[0] + weights[1] * parts[1]) / np.maximum(norm, 1e-6)


def _shifted_texture(patch: np.ndarray, known: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The fur's coarser texture (its strands: finer than :data:`COVER_TEXTURE_BLUR`, coarser
    than :data:`COVER_DETAIL_BLUR`) carried into a hole from beside it, shifted, not mirrored
    (mirrored, a strand's slant flips): the texture above the hole repeated down into it, and
    below it up, blended from the one to the other down the hole, as strong as it is in a
    ring round the hole (without it, the cover was a smoother oval in the fur); none where
    what lies round the hole runs round it (:data:`COVER_TEXTURE_ACROSS`)."""
    fine = masked_blur(patch, known, COVER_DETAIL_BLUR)
    band = (fine - masked_blur(patch, known, COVER_TEXTURE_BLUR)) * known[..., None]
    rows_any = np.nonzero(hole.any(axis=1))[0]
    if not len(rows_any):
        return np.zeros_like(patch)
    first, last = float(rows_any[0]), float(rows_any[-1])
    h, w = hole.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    t = np.clip((rows - first) / max(last - first, 1.0), 0.0, 1.0)
    parts, weights = [], []
    # The strip above the hole (clear of its edge) repeated down into it, and below it up,
    # in tiles two thirds of it tall, twice, half a tile apart, each faded out at its seams
    # (one tiling's seam is the other's middle: no line across the cover).
    above, below = first - COVER_EDGE_SKIP, h - 1 - last - COVER_EDGE_SKIP
    for space, sign, weight in ((above, -1.0, 1 - t), (below, 1.0, t)):
        if space < COVER_TEXTURE_BLUR:
            continue
        start = above if sign < 0 else h - 1 - below
        tile = space / 1.5
        for phase in (0.0, 0.5 * tile):
            reach = np.maximum(1.0 - sign * (rows - start), 0.0) + phase
            source_rows = rows + sign * tile * np.ceil(reach / tile)
            fade = np.abs(np.sin(np.pi * reach / tile))  # 0 at its seams
            inside = (source_rows >= 0) & (source_rows <= h - 1)
            source_rows = np.clip(source_rows, 0, h - 1).astype(np.float32)
            valid = cv2.remap(known, cols, source_rows, cv2.INTER_LINEAR) > 0.99
            parts.append(cv2.remap(band, cols, source_rows, cv2.INTER_LINEAR))
            weights.append((weight * fade * (inside & valid))[..., None])
    if not parts:
        return np.zeros_like(patch)
    norm = np.sqrt(sum(weight**2 for weight in weights))
    texture = sum(weight * part for weight, part in zip(weights, parts, strict=True)) \
        / np.maximum(norm, 1e-6)
    # As strong as round the hole (robust spreads: an eye's dark rim, a nose, are no fur).
    size = 2 * int(np.ceil(0.5 * (last - first + 1))) + 1
    ring = (cv2.dilate(hole.astype(np.uint8), np.ones((size, size), np.uint8)) > 0) \
        & (known > 0)
    covered = hole & (norm[..., 0] > 0.5)
    if ring.sum() < 16 or covered.sum() < 16:
        return np.zeros_like(patch)
    around = float(robust_spread(band.mean(axis=2)[ring]))
    inside = float(robust_spread(texture.mean(axis=2)[covered]))
    gain = min(around / max(inside, 1e-6), COVER_TEXTURE_GAIN)
    # None of what runs round the eye (a monkey's wrinkles, a pale ring's edges: shifted in,
    # bands across the cover): only fur that runs any way, or across.
    low, high = COVER_TEXTURE_ACROSS
    weight = float(np.clip((_across_ratio(band.mean(axis=2), hole, ring & ~hole)
                            - low) / (high - low), 0.0, 1.0))
    return weight * np.clip(gain * texture, -COVER_DETAIL_CLIP * around,
                            COVER_DETAIL_CLIP * around)


def _across_ratio(light: np.ndarray, hole: np.ndarray, where: np.ndarray) -> float:
    """How much of ``light``'s structure in ``where`` (round ``hole``) runs across the hole's
    edge rather than round it: its gradients' energy along the edge over across it (about 1
    for fur any way, near 0 for arcs round the hole)."""
    nx, ny = _edge_normals(~hole)
    gx, gy = (cv2.Sobel(light, cv2.CV_32F, dx, 1 - dx, ksize=3) for dx in (1, 0))
    round_it = float(((gx * nx + gy * ny) ** 2)[where].sum())
    return float(((gx * ny - gy * nx) ** 2)[where].sum()) / max(round_it, 1e-6)


def _unringed(detail: np.ndarray, hole: np.ndarray, grain: np.ndarray) -> np.ndarray:
    """``detail`` mirrored into ``hole`` with its structure that runs round the hole (arcs
    parallel to its edge: an eye's rim, lid margins, a monkey's wrinkles round its eye,
    mirrored, draw the eye again) turned into ``grain`` (H, W, 1): at each pixel, no more of
    it than of the structure across the edge (fur, which runs any way), locally."""
    light = detail.mean(axis=2)
    nx, ny = _edge_normals(hole)
    gx, gy = (cv2.Sobel(light, cv2.CV_32F, dx, 1 - dx, ksize=3) for dx in (1, 0))
    along = cv2.GaussianBlur((gx * nx + gy * ny) ** 2, (0, 0), UNRING_SCALE)
    across = cv2.GaussianBlur((gx * ny - gy * nx) ** 2, (0, 0), UNRING_SCALE)
    keep = np.clip(np.sqrt(across / np.maximum(along, 1e-6)), 0.0, 1.0)[..., None]
    return keep * detail + np.sqrt(1.0 - keep**2) * grain


def _edge_normals(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The unit normals (x, y) of ``mask``'s edge, across it, at each of its pixels (its
    distance from the edge, a little smoothed, differentiated)."""
    depth = cv2.GaussianBlur(cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5),
                             (0, 0), 1.0)
    nx, ny = (cv2.Sobel(depth, cv2.CV_32F, dx, 1 - dx, ksize=3) for dx in (1, 0))
    norm = np.maximum(np.hypot(nx, ny), 1e-6)
    return nx / norm, ny / norm


#: The scale (pixels) over which a mirrored texture's direction is judged.
UNRING_SCALE = 2.0

