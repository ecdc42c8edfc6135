"""Mouth interior for a mouth that opens wider than the source photo's.

The warp can only stretch what the source shows; where the target's lips part further, the gap
is filled, only inside the target's inner-lip contour, and the lips are drawn over it with a
soft edge (:mod:`deepexpo.render.lips`), pale lips' inner surface shaded darker, wet, as it
turns into the mouth. The fill is a mouth cavity in the colour of the mouth's inside as the
lips show it (at least as colourful as real lips are beside their skin), darkest at the back
and into its corners, with teeth and tongue over it: an open source mouth's own (the upper
teeth follow the upper lip, the lower the lower lip; teeth that meet, a driver's lips parted
barely more, laid over the opening whole), or else the driver's, mapped onto the target's inner
lip (its upper teeth, in a taller opening, at their own height, hung from the upper lip, but
for teeth that meet in both faces: nothing between them to part, no throat behind them) and
matched to the source: lit like its lips, its teeth (told from its lips by colour as well as
light) lit as its own teeth (where it shows some) or its eye whites, no brighter, in the
whites' colour or halfway to its own teeth's (eyes that show no white: ivory in its skin's
light), never bluer than that ivory (a grayscale photo stays grayscale, a painting keeps its
palette). With neither (a closed source opened by the editor or a closed driver), the edges of
upper teeth in that colour, in the upper lip's shade, under the source's own upper teeth where
its lips, barely parted, show some, and a tongue lying low, lit, in the colour of the mouth's
inside; so too for a driver whose lips part barely (its sliver of interior, stretched, was a
smear).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from ..face.canonical import canonical_face
from ..face.measure import mouth_opening
from ..face.topology import TOPOLOGY
from ..geometry.boxes import PixelBox
from ..geometry.ramps import smoothstep
from .lips import (
    WetRim,
    draw_lips,
    from_dark_line,
    lip_contours,
    opening_outline,
    polygon_mask,
    soft_inner_edge,
)
from .mesh_warp import RESAMPLING, backward_map
from .moustache import Moustache, moustache
from .texture import GRAIN_BLOCK, GRAIN_BLUR, channel_spread, edge_blur, scattered_grain
from .tongue import TongueShape, tongue_at

#: Where an open mouth's teeth part, as a fraction of the way from upper to lower inner lip.
TEETH_SPLIT = 0.75
#: How far inside a mouth's inner-lip landmarks its teeth are taken, as a fraction of the
#: opening's height: the landmarks lie on the lips' wet edge, whose pixels are lip.
TEETH_INSET = 0.15
#: A source's own teeth: pixels between its lips this much brighter (Lab L, 0-255) than the
#: lips, and under this fraction of their chroma (teeth show tinted by the lips around them) ...
OWN_TEETH_BRIGHTER, OWN_TEETH_GREYER = 20.0, 0.75
#: ... at least this many of them.
OWN_TEETH_MIN_PX = 20
#: ... as bright as this percentile of theirs lit, ...
TEETH_LIT_TOP = 90.0
#: ... and this one on the whole: what teeth implied beside them are lit as (s10's, a
#: painting's, 176 on the whole, 202 in the lit streak of their highlight: implied at that,
#: a pale band ran across her opening, over a cavity as dark as ever).
TEETH_BODY = 50.0
#: An open mouth shows its inside (its teeth parted) where at least this fraction of the
#: middle of its opening is darker than its lips by as much.
INTERIOR_SHOWN = 0.15
#: Lab chroma below which a colour reads as grey.
GREY_CHROMA = 3.0
#: Eye whites: the pixels inside an eye's contour brighter than the skin in a ring around it
#: (between these fractions of the eye's width from its contour) and under this fraction of
#: that skin's chroma, ...
EYE_SKIN_RING = (0.15, 0.4)
EYE_WHITE_GREYER = 0.7
#: ... at least this many of them in an eye (a small eye, 100 pixels in its contour, shows
#: some 10).
EYE_WHITE_MIN_PX = 8
#: Borrowed teeth take this much of the colour of the source's own teeth, the rest of its eye
#: whites': teeth a few pixels tall between the lips are tinted by them (JPEG keeps colour at
#: half resolution), so that, on a whole row, they read as skin; in the whites' alone, cold.
OWN_TEETH_COLOUR = 0.5
#: Teeth are ivory: in daylight about as yellow as skin and far less red (Lab b* near the
#: skin's, a* near grey); eye whites are greyer. In the source's light (a cast on its skin is
#: on its teeth too; a grayscale photo's are grey) teeth are at least this fraction of its
#: skin's yellow (Lab b* off grey: the least of the samples' own teeth, the astronaut's) and,
#: nothing else telling their colour, this fraction of its red (a*), and this many times as
#: bright as its skin: a white in its light (the least of the samples' eye whites over the
#: skin round their mouths, s42's; the astronaut's 1.2, her own teeth 1.3). (Where the eyes
#: could not be read, teeth in the whites' 0.3 of the skin's colour, under its brightness,
#: read blue-grey against the ruddy skin of Grace Hopper's photo; as bright as it, her
#: borrowed teeth, their gaps darker, were a grey-green row, L 150 against her skin's 161.)
IVORY_YELLOW, IVORY_RED, IVORY_LIGHT = 0.5, 0.4, 1.15
#: A driver's interior is compressed under the source's eye whites from the lips' brightness
#: up, or from this fraction of the whites' where the lips are brighter; its teeth lit in
#: proportion (:func:`_relit`).
TEETH_KNEE = 0.8
#: A driver's lit teeth: its interior at least this tooth-like by brightness alone (of the
#: way from its lips' brightness to its brightest); a pixel this much brighter (Lab L) than
#: its lips is a tooth as far as its colour is theirs.
TEETH_LIT, TEETH_ABOVE_LIPS = 0.8, 10.0
#: ... and, in a light that does not light its teeth above its lips (:data:`LIT_TEETH`), a
#: pixel less red and less colourful than its lips (its Lab a* and chroma over theirs) is a
#: tooth from the first of these fractions of theirs to the second
#: (teeth, d3.mp4's, d19.mp4's, d0.mp4's: 0.7 to 0.74 on the median; a tongue, d12.mp4's,
#: 0.9 and more), as far as it is no darker than them: from the first to the second of
#: :data:`TEETH_NOT_DARKER` times as bright (Lab L; a throat, its shade less colourful, is
#: darker). Dimly lit, teeth are barely brighter than their lips (d3.mp4's clenched teeth: 1.0
#: to 1.27 times), and by brightness alone the brightest of his opening was his lower lip's
#: wet edge: 0.06 of his opening at frame 8 counted as teeth (by colour, 0.23), drawn in
#: the source's lips' light, a grey band.
TEETH_GREYER, TEETH_NOT_DARKER = (0.85, 0.7), (0.75, 0.95)
#: A driver's interior's brightest, and its teeth's: this percentile of their brightness.
DRIVER_TOP = 97.0
#: Lips less colourful than this (Lab chroma) tell nothing of their teeth's colour (a
#: grayscale driver's).
LIPS_TELL_COLOUR = 3.0 * GREY_CHROMA
#: A driver's interior is blurred by this many of its own pixels as they show, magnified, on
#: the target's opening; its teeth by as many as it is magnified past the output's own
#: (:func:`_sharp_teeth`).
DRIVER_SOFT = 1.0
#: Where the throat lies in an opening: as a fraction of the way from the upper inner lip to
#: the lower, and how far it reaches down and across (of the half-width) ...
THROAT = (0.35, 0.35, 0.6)
#: ... and how much darker it makes a driver's interior's darks: their brightness relative to
#: its most lit part raised to this power there (the driver's own light shows the tongue).
THROAT_DEPTH = 3.0
#: ... where there are darks to deepen: a throat, once the driver's mouth opens this tall
#: against its width (its jaw dropped), fully from twice that; or, its jaw closed, the gaps
#: and ends of teeth lit above its lips, as far as its most lit part is from the first to
#: the second of these times as bright (Lab L) as its lips. Lips parted over teeth that meet
#: in a dim light show neither: their darks are the teeth's own shade (d3.mp4's clenched
#: teeth, 0.16 to 0.19 open, lit 1.0 to 1.27 times as his lips, deepened there, were a dark
#: crescent under the astronaut's teeth; his "O", 0.46 open, d19.jpg's scream, 0.67, and
#: d19.mp4's smiles, lit 1.4 to 1.65 times, are deepened as before). Teeth not lit above
#: their lips by as much are told from them by their colour too (:data:`TEETH_GREYER`). (Its
#: teeth so told and spared, d3.mp4's clenched teeth deepened at the throat still darkened
#: the shade between and round them: 0.18 and 0.22 of the astronaut's and s42's openings
#: darker than 0.35 of their lips by his frame 16, his own 0.15.)
THROAT_FROM, LIT_TEETH = 0.2, (1.3, 1.4)
#: ... down to no darker than the darkest shade the driver's interior shows (its own pixels,
#: unsoftened, its teeth aside): this percentile of their brightness relative to its most lit
#: part (a dark throat it shows stays as dark; the dark gaps of a smile's teeth, a pixel or
#: two wide, stay as dark as they are; the shade round a lit tongue is not made a black ring).
THROAT_FLOOR = 2.0
#: A mouth's inside darker than its lips is less colourful, as its brightness relative to
#: theirs raised to this power (a driver's interior, the cavity: :func:`_darkened`; so are
#: real mouths', d19's, d12's and d3's, from 0.4 to 0.7).
DARK_CHROMA = 0.5
#: A driver's interior is taken from inside its inner lip, this fraction of the way out
#: across its opening, and as many pixels in along it (:func:`_off_the_lips`).
DRIVER_INSIDE = 0.88
#: The lips' soft outer edge, in multiples of the opening's.
LIP_EDGE = 2.0
#: The cavity's brightness, as a fraction of the lips', at its edge and at its back ...
CAVITY_EDGE, CAVITY_BACK = 0.5, 0.2
#: ... and, where nothing else shows the inside of the mouth, the tongue's on its floor
#: (:data:`TONGUE_SHAPE`) on its lit top, and how colourful it is, as a fraction of the mouth's
#: wet inside, darker only in proportion: lit from the front, not darkened as the cavity is
#: (the floor shaded as the cavity, lighter, was a flat brown fill with no tongue). No
#: brighter than the cavity's edge by much: lit brighter, or its back edge in shadow, it read
#: as lip to the landmark readers, which found the lower lip on it (MediaPipe on Grace
#: Hopper's photo blurred and opened by ``aaa``: 0.29 of the width open with a shadow, 0.31
#: lit at 0.6, 0.32 with the floor lit as the cavity's edge).
TONGUE_LIT, TONGUE_CHROMA = 0.55, 0.9
#: The tongue on the floor of a person's mouth: its back edge soft (a smooth step over 0.15
#: of the opening's height), 0.6 of the way down the middle, 0.5 further at the corners.
TONGUE_SHAPE = TongueShape(back=0.6, rise=0.5, reach=0.7, fade=0.3, edge=0.15, sides=0.5)
#: A tongue shows once an opening is this tall against its width, fully from twice that.
TONGUE_FROM = 0.18
#: An opening's ends are deep in shade (the lips fold back into the cheeks there; real
#: mouths' corners are their darkest part, d12's and d3's): from this fraction of the way
#: across from its middle, to this fraction of the way from its edge's shade to its back's
#: at the corners, about as dark as its middle on the whole. Shaded from its edge alone, the
#: narrow ends were as pale as its edge, a lip-coloured point between the lips' pale soft
#: edges (Grace Hopper by ``aaa``: 1.3 times the interior's median lightness 0.04 of the
#: width in from each corner, now 0.95). (As deep as its back, MediaPipe read the
#: astronaut's smile opened by ``aaa`` 0.89 as open as drawn, its corners dark.)
CORNERS_DEEP = (0.7, 0.8)
#: A linear fade this many times a Gaussian blur's sigma wide either side of an edge rises
#: from 10 to 90 percent over the same distance.
BLUR_TO_RAMP = 1.6


def fill_mouth(
    out: np.ndarray,
    target_xy: np.ndarray,
    source: SourceMouth,
    driver: tuple[np.ndarray, np.ndarray] | None,
    threshold: float,
    closed_below: float,
    feather: float,
    lips_from: np.ndarray | None = None,
    lips_image: np.ndarray | None = None,
) -> None:
    """Paint the interior of the target mouth into ``out`` (in place) where it opened wider
    than the source's (``source``: its mouth, :class:`SourceMouth`; ``driver``: image and
    landmarks; ``feather``: the soft edge as a fraction of the mouth's width), and draw the
    lips over it as bands of the source's own lips
    (:func:`~deepexpo.render.lips.draw_lips`), taken from ``lips_from`` (its lips'
    landmarks, those of a closed mouth's inner lip inside the lips: its source's own by
    default; of lips closed or parted a little, measured from the dark line between them:
    :func:`~deepexpo.render.lips.from_dark_line`), on ``lips_image`` (the source's image
    with its corners' fold filled in, :func:`~deepexpo.render.lips.without_corner_folds`; its
    own by default)."""
    opened = OpenedMouth.of(out.shape[:2], target_xy, source.xy, threshold, feather)
    if opened is None:
        return
    region, sigma = opened.region, opened.sigma
    offset = np.array([region.x0, region.y0])
    outline = opening_outline(target_xy)
    opening = polygon_mask(outline - offset, region.size)
    # Filled right up to the lips' inner edge (and a pixel under it): the lips, drawn over
    # it, soften it with their own edge; the warp left to show inside would rim the opening
    # with the dark line where the source's lips met.
    alpha = np.clip(2.0 * cv2.GaussianBlur(opening, (0, 0), max(0.7, 0.5 * sigma)), 0.0, 1.0)

    patch = out[region.slices].astype(np.float32)
    (_, _), (lower_inner, lower_outer) = lip_contours(target_xy)
    lower_lip = polygon_mask(np.r_[lower_inner, lower_outer[::-1]] - offset, region.size)
    lit_floor = False  # a cavity nothing is laid over has its floor lit (_cavity)
    mucosa, pale = source.mucosa
    driver_opening = mouth_opening(driver[1]) if driver is not None else 0.0
    shown = source.shown_teeth is not None
    parted = opened.source_opening >= closed_below
    # Teeth that meet behind lips parted in a smile show no interior to part: split, their
    # tips went down with the jaw as a stripe under a flat dark disc. They are shown as lips
    # parted over teeth are.
    meet = parted and shown and not source.shows_interior
    # Drawn (``layers``, over the cavity) and the source's own pixels, moved (``own``: they
    # have its grain already).
    layers: list[tuple[np.ndarray, np.ndarray]] = []
    own: list[tuple[np.ndarray, np.ndarray]] = []
    if parted and not meet:
        own = own_teeth(source.pixels, target_xy, region)
    elif driver is not None and driver_opening >= threshold \
            and (driver_opening >= closed_below or not shown):
        # Teeth that meet in both faces (a smile driving a smile) are not held apart: neither
        # shows an inside between them, and the gap held open there was a near-black band
        # round hers (the astronaut by d19.mp4's widest smile).
        both_meet = meet and not _shows_interior(*driver)
        layers = [_driver_interior(driver, source, target_xy, region, patch, mucosa,
                                   lower_lip, both_meet)]
        if meet:  # a smile's row of teeth is hers: kept under her upper lip
            own = own_teeth(source.pixels, target_xy, region, upper_only=LIP_EDGE * sigma)
    elif meet and driver is not None:
        # ... nor by a driver's lips parted barely more (his jaw barely drops, his teeth
        # meet): her whole interior, laid over the opening point for point, as his is where
        # both faces' teeth meet. (Her teeth alone, hung from her upper lip over the cavity,
        # were a thin strip over a black crescent as tall as they are, round to both
        # corners: the astronaut by d19.mp4's frame 16, his lips parted 0.08.)
        own = own_teeth(source.pixels, target_xy, region, meet=True)
    elif shown:
        # Lips barely parted show the upper teeth (below them lies the lower lip's edge):
        # opened by the editor, a closed driver (a pout) or one whose lips part barely
        # more (its sliver of interior, stretched over the opening, was a brown smear with
        # tooth tips floating in it), they show those, over implied ones (a sliver of them
        # alone read as a dark hole).
        lit_floor = True
        layers = _implied_interior(source, target_xy, region, patch, sigma)
        own = own_teeth(source.pixels, target_xy, region, upper_only=LIP_EDGE * sigma)
    else:
        lit_floor = True
        layers = _implied_interior(source, target_xy, region, patch, sigma)
    interior = laid_over(_cavity(patch, opening, lower_lip, sigma, mucosa,
                                 (target_xy, region), lit_floor), layers, sigma)
    if source.moustache is not None:
        # Under a moustache the opening's top lies in its shade, as dark against the rest as
        # the cavity's back is against its edge: lit as under a lip, the top of its edge
        # (and of a driver's interior) was a lip-coloured rim under the hair.
        interior *= 1.0 - (1.0 - CAVITY_BACK / CAVITY_EDGE) \
            * source.moustache.shade(_opening_place(target_xy, region)[0])[..., None]
    interior = laid_over(_grained(interior, source, target_xy, region), own, sigma)
    alpha = alpha[..., None]
    out[region.slices] = np.clip(alpha * interior + (1 - alpha) * patch, 0, 255).astype(np.uint8)
    read, drawn = source.xy, target_xy
    if lips_from is not None:
        read = lips_from
        if opened.source_opening < closed_below:  # lips parted a little, or closed
            read, drawn = from_dark_line(source.image, source.xy, lips_from, target_xy,
                                         soft_inner_edge(LIP_EDGE * sigma))
            outline = opening_outline(drawn)
    draw_lips(out, source.image if lips_image is None else lips_image, read, drawn,
              LIP_EDGE * sigma, _wet_rim(mucosa, pale, mouth_opening(target_xy)),
              source.moustache, outline)
    _blur_opening_edge(out, drawn, outline, region, sigma, source.lips_blur, source.moustache)


@dataclass(frozen=True)
class SourceMouth:
    """A source's mouth as :func:`fill_mouth` reads it: its ``image`` and landmarks ``xy``
    (pixels) and, made on first use and kept, what a fill takes from them alone: a video's
    frames all open the same source's mouth (its
    :class:`~deepexpo.engines.warp_engine.WarpSource` keeps one)."""

    image: np.ndarray
    xy: np.ndarray

    @property
    def pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """Its image and landmarks, as :func:`own_teeth` takes them."""
        return self.image, self.xy

    @cached_property
    def lips_and_skin(self) -> tuple[np.ndarray, np.ndarray]:
        """The Lab pixels of its lips and of the skin round them (:func:`_lips_and_skin`)."""
        return _lips_and_skin(self.image, self.xy)

    @cached_property
    def mucosa(self) -> tuple[np.ndarray, float]:
        """The colour of its mouth's wet inside and how pale its lips are (:func:`_mucosa`)."""
        return _mucosa(*self.lips_and_skin)

    @cached_property
    def shown_teeth(self) -> np.ndarray | None:
        """The colour of the teeth it shows, if any (:func:`_shown_teeth`), as bright as
        the lit ones."""
        return _shown_teeth(self.image, self.xy)

    @cached_property
    def shown_teeth_body(self) -> np.ndarray | None:
        """... and as bright as they are on the whole (:data:`TEETH_BODY`)."""
        return _shown_teeth(self.image, self.xy, TEETH_BODY)

    @cached_property
    def shows_interior(self) -> bool:
        """Whether its opening shows some of its inside (:func:`_shows_interior`)."""
        return _shows_interior(self.image, self.xy)

    @cached_property
    def eye_white(self) -> np.ndarray | None:
        """The colour of the face's eye whites, if they show (:func:`_eye_white`)."""
        return _eye_white(self.image, self.xy)

    @cached_property
    def moustache(self) -> Moustache | None:
        """The hair over its upper lip, if any (:func:`~deepexpo.render.moustache.moustache`)."""
        return moustache(self.image, self.xy)

    @cached_property
    def lips_blur(self) -> float:
        """How blurred the photo's edges around its lips are (:func:`_lips_blur`)."""
        return _lips_blur(self.image, self.xy)

    @cached_property
    def grain_donors(self) -> tuple[tuple[np.ndarray, float], ...]:
        """Where a fill's grain is read (:func:`_grained`): the pixels (x, y) of its lips and
        of the skin round them far enough inside their edges to read none of them, each with
        their median brightness; lips or skin with under :data:`GRAIN_DONORS` of them left
        out."""
        box = _round_mouth(self.image, self.xy)
        margin = int(np.ceil(GRAIN_BLUR))
        inside = cv2.getStructuringElement(cv2.MORPH_RECT, (GRAIN_BLOCK + 2 * margin,) * 2)
        light = self.image[box.slices].astype(np.float32).mean(axis=2)
        donors = []
        for part in (_lips_mask(self.xy, box), _skin_mask(self.xy, box)):
            rows, cols = np.nonzero(cv2.erode(part, inside, anchor=(margin, margin)))
            if len(rows) >= GRAIN_DONORS:
                donors.append((np.c_[cols + box.x0, rows + box.y0],
                               float(np.median(light[rows, cols]))))
        return tuple(donors)


@dataclass(frozen=True)
class OpenedMouth:
    """A target mouth opened wider than its source's: the ``region`` of the output around its
    lips that a fill paints, the fill's soft edge ``sigma`` (pixels) and how open the source's
    mouth is (:func:`~deepexpo.face.measure.mouth_opening`)."""

    region: PixelBox
    sigma: float
    source_opening: float

    @staticmethod
    def of(size: tuple[int, ...], target_xy: np.ndarray, source_xy: np.ndarray,
           threshold: float, feather: float) -> OpenedMouth | None:
        """The mouth of ``target_xy`` (landmarks, pixels, in an output of ``size``) if it
        opened at least ``threshold`` wider than ``source_xy``'s, with a soft edge of
        ``feather`` of its width; ``None`` if not, or if it is too small to paint."""
        source_opening = mouth_opening(source_xy)
        if mouth_opening(target_xy) - source_opening < threshold:
            return None
        canon = canonical_face()
        corners = target_xy[canon.mouth_corners, :2]
        sigma = max(0.7, feather * float(np.linalg.norm(corners[0] - corners[1])))
        outer_xy = target_xy[canon.lip_loops[0], :2]
        pad = 4 + 3 * sigma
        region = PixelBox.around(np.r_[outer_xy - pad, outer_xy + pad], size)
        if region.size[0] < 2 or region.size[1] < 2:
            return None
        return OpenedMouth(region, sigma, source_opening)


def _grained(interior: np.ndarray, source: SourceMouth, target_xy: np.ndarray,
             region: PixelBox) -> np.ndarray:
    """``interior`` (the fill over ``region``, drawn smooth) with the source photo's grain
    laid on (:func:`~deepexpo.render.texture.scattered_grain`, anchored at the opening's
    middle): against a grainy face (a photo's noise, a painting's crackle) a smooth fill read
    as pasted in. Read from its lips or the skin round them, whichever has the weaker fine
    detail (the grain they share: lips add their lines, skin a moustache), far enough inside
    its edges to read none of them; as strong, for the fill's brightness, as it is there for
    theirs (a dark mouth's is weaker: the throat stays dark) and no stronger (teeth as clean
    as the lips); a grayscale photo's is grey."""
    origin = opening_middle(target_xy, region)
    weakest = None
    for donors, tone in source.grain_donors:
        grain = scattered_grain(source.image, donors, region.size, origin, INTERIOR_GRAIN_LIMIT)
        strength = float(channel_spread(grain).mean())
        if weakest is None or strength < weakest[0]:
            weakest = strength, grain, tone
    if weakest is None:
        return interior
    _, grain, tone = weakest
    return interior + np.clip(interior.mean(axis=2) / max(tone, 1.0), 0.0, 1.0)[..., None] \
        * grain


def opening_middle(target_xy: np.ndarray, region: PixelBox) -> tuple[int, int]:
    """The pixel (x, y, in ``region``) at the middle of the target's opening: what is laid
    in it counted from there moves with the mouth."""
    centre = np.round(target_xy[canonical_face().lip_loops[1], :2].mean(axis=0)).astype(int)
    return int(centre[0]) - region.x0, int(centre[1]) - region.y0


#: The grain laid on a mouth's fill (:func:`_grained`): at most this many times its robust
#: spread (at the grain's usual 8, the dark marks and a highlight among s10's crackle were
#: dots and a pale fleck in its opening), read from lips or skin with at least this many
#: pixels to start a block at.
INTERIOR_GRAIN_LIMIT, GRAIN_DONORS = 2.0, 16


def _blur_opening_edge(out: np.ndarray, target_xy: np.ndarray, outline: np.ndarray,
                       region: PixelBox, sigma: float, blur: float,
                       hair: Moustache | None = None) -> None:
    """Blur (in place) a ring round the opening's edge (``outline``, :func:`opening_outline`
    of ``target_xy``) as much as the photo's own edges are (``blur``, a Gaussian's sigma)
    beyond what the lips' fade there (``sigma`` wide) gives: on a small, upscaled or
    out-of-focus photo, a crisp edge round the fill is a pasted-in hole. Not where ``hair``
    hangs over it: the edge there is the photo's own hair."""
    drawn = soft_inner_edge(LIP_EDGE * sigma) / BLUR_TO_RAMP
    extra = float(np.sqrt(max(blur * blur - drawn * drawn, 0.0)))
    if extra < 0.3:
        return
    # The ring: the outline drawn twice the blur wide, whole over it and fading over about
    # the blur either side.
    line = np.zeros(region.size, np.float32)
    outline = outline - [region.x0, region.y0]
    cv2.polylines(line, [np.round(outline * 4).astype(np.int32)], True, 1.0,
                  max(1, int(round(2 * blur))), cv2.LINE_AA, shift=2)
    ring = np.clip(cv2.GaussianBlur(line, (0, 0), blur) / 0.4, 0.0, 1.0)
    if hair is not None:
        ring *= 1.0 - hair.shade(_opening_place(target_xy, region)[0])
    ring = ring[..., None]
    patch = out[region.slices].astype(np.float32)
    soft = cv2.GaussianBlur(patch, (0, 0), extra)
    out[region.slices] = np.clip(ring * soft + (1 - ring) * patch + 0.5, 0, 255).astype(np.uint8)


def _lips_blur(image: np.ndarray, xy: np.ndarray) -> float:
    """How blurred a photo's edges around its lips are (:func:`edge_blur`)."""
    lips = xy[canonical_face().lip_loops[0], :2]
    return edge_blur(image, PixelBox.around(lips, image.shape[:2],
                                                0.25 * float(np.ptp(lips[:, 0]))))


def laid_over(interior: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]],
              sigma: float) -> np.ndarray:
    """``interior`` with each (colour, mask) layer laid over it, the masks softened by
    ``sigma`` pixels."""
    for colour, mask in layers:
        mask = cv2.GaussianBlur(mask, (0, 0), sigma)[..., None]
        interior = mask * colour + (1 - mask) * interior
    return interior


def _inset(mask: np.ndarray, pixels: float) -> np.ndarray:
    """``mask`` shrunk by ``pixels`` (at least one)."""
    size = 2 * max(1, int(round(pixels))) + 1
    return cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))


def _cavity(patch: np.ndarray, opening: np.ndarray, lower_lip: np.ndarray, sigma: float,
            mucosa: np.ndarray, frame: tuple[np.ndarray, PixelBox], lit_floor: bool = False
            ) -> np.ndarray:
    """A mouth's cavity: as bright as its lower lip (the upper one may lie under a
    moustache, which made it a black hole) darkened, darker towards its middle (the throat)
    and into its corners (:data:`CORNERS_DEEP`), in the colour of the mouth's wet inside
    (``mucosa``, :func:`_mucosa`), which keeps more of its colour than its light
    (:func:`_darkened`: the lower lip's colour darkened was a grey brown on pale lips);
    where nothing else shows the inside of the mouth (``lit_floor``), with a tongue on its
    floor (without, a flat dark disc). ``frame``: the target's landmarks and the region."""
    inside = opening > 0.5
    lip = lower_lip > 0.5
    colour = patch[lip].mean(axis=0) if lip.any() else np.array([90.0, 40.0, 40.0])
    target_xy, region = frame
    ys, top, bottom, across = _opening_frame(target_xy, region)
    dist = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)
    ends, deepest = CORNERS_DEEP
    # (Across to each of the opening's ends, rounded off inside its corners.)
    reach = np.maximum(np.where(across < 0, -across[inside].min(), across[inside].max()),
                       1e-6) if inside.any() else 1.0
    depth = np.maximum(np.clip(dist / (dist.max() + 1e-6), 0, 1) ** 0.7,
                       deepest * smoothstep((np.abs(across) / reach - ends) / (1.0 - ends)))
    shade = CAVITY_EDGE + (CAVITY_BACK - CAVITY_EDGE) * depth
    tongue = None
    if lit_floor and inside.any():
        # Darkest at the throat, a little above the middle, a tongue lying on the floor of
        # the mouth, lit (without a shadow at its edge: a lit mound's edge read as a second
        # lower lip); the taller the opening, the more of it shows. (Shaded from its edge in
        # alone, the middle of its floor was as dark as the throat: a flat disc.)
        gap = np.maximum(bottom - top, 1.0)
        width = max(float(np.ptp(target_xy[canonical_face().mouth_corners, 0])), 1.0)
        show = float(np.clip((float(np.median(gap[inside])) / width - TONGUE_FROM)
                             / TONGUE_FROM, 0.0, 1.0))
        down = np.clip((ys - top) / gap, 0.0, 1.0)
        shade = CAVITY_EDGE + (CAVITY_BACK - CAVITY_EDGE) \
            * np.maximum(depth, _throat(down, across))
        mass, light, _, _ = tongue_at(down, np.clip(across, -1.0, 1.0), TONGUE_SHAPE)
        tongue = mass * show
        shade = tongue * TONGUE_LIT * light + (1 - tongue) * shade
    shade = cv2.GaussianBlur(shade.astype(np.float32), (0, 0), sigma)
    lightness = _lab(colour[None, None, :] * shade[..., None])[..., 0]
    cavity = _darkened(mucosa, lightness)
    if tongue is None:
        return _rgb(cavity)
    # The tongue in the mouth's wet colour, darker and less colourful than the lips show it,
    # but not darkened as the cavity's shade is: a lit mass, not the cavity's brown lightened.
    own = np.r_[TONGUE_LIT * mucosa[0], 128.0 + TONGUE_CHROMA * (mucosa[1:] - 128.0)]
    tongue = cv2.GaussianBlur(tongue.astype(np.float32), (0, 0), sigma)[..., None]
    return _rgb(tongue * _darkened(own, lightness) + (1 - tongue) * cavity)


def _opening_frame(target_xy: np.ndarray, region: PixelBox
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each pixel of ``region`` lies in the target's opening: its height, the upper and
    the lower inner lip's height at it (pixels, in the output) and how far across the mouth
    it lies (-1 and 1 at the corners)."""
    canon = canonical_face()
    upper, lower = target_xy[canon.inner_lip_upper, :2], target_xy[canon.inner_lip_lower, :2]
    corners = target_xy[canon.mouth_corners, :2]
    h, w = region.size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs, ys = xs + region.x0, ys + region.y0
    centre, half = corners.mean(axis=0)[0], max(np.ptp(corners[:, 0]) / 2, 1.0)
    return ys, _curve_at(upper, xs), _curve_at(lower, xs), (xs - centre) / half


def _opening_place(target_xy: np.ndarray, region: PixelBox
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel of ``region`` lies in the target's opening, as fractions of it: how
    far down (0 at the upper inner lip, 1 at the lower, clipped) and how far across (-1 and 1
    at the corners)."""
    ys, top, bottom, across = _opening_frame(target_xy, region)
    return np.clip((ys - top) / np.maximum(bottom - top, 1.0), 0.0, 1.0), across


def _gap_px(xy: np.ndarray) -> float:
    canon = canonical_face()
    return float(np.linalg.norm(xy[canon.inner_lip_lower, :2] - xy[canon.inner_lip_upper, :2],
                                axis=1).mean())


def own_teeth(source: tuple[np.ndarray, np.ndarray], target_xy: np.ndarray,
              region: PixelBox, upper_only: float | None = None, meet: bool = False
              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The source's own mouth interior, split in two: the upper teeth (down to
    ``TEETH_SPLIT`` of the way to the lower lip) hang from the upper inner lip, column by
    column (moved as a block, they left a dark gap under a lip that arched more than they:
    a pout), the rest moves with the lower one; only the pixels inside its lips (none of the
    lips themselves). Of lips barely parted (``upper_only`` given), the teeth alone (the
    pixels brighter than the lips), all hung from the upper lip, from ``upper_only`` pixels
    under its edge (the lips' soft edge is drawn over it). Of teeth that ``meet``, nothing
    between them to part: whole, laid over the opening point for point (each row of a
    column as far of the way from one lip to the other), right up to the lips (drawn over
    its edge)."""
    image, xy = source
    canon = canonical_face()
    offset = np.array([region.x0, region.y0])
    h, w = region.size
    (upper_s, _), (lower_s, _) = lip_contours(xy)
    (upper_t, _), (lower_t, _) = lip_contours(target_xy)
    box = PixelBox.around(xy[canon.lip_loops[0], :2], image.shape[:2], 2)
    opening = polygon_mask(xy[canon.lip_loops[1], :2] - [box.x0, box.y0], box.size)
    # Each of the target's pixels (in its region), which the source is read for.
    ty, tx = np.mgrid[0:h, 0:w].astype(np.float32)
    tx, ty = tx + offset[0], ty + offset[1]
    if meet:
        sx = tx - (np.r_[upper_t, lower_t] - np.r_[upper_s, lower_s]).mean(axis=0)[0]
        top_s, top_t = _curve_at(upper_s, sx), _curve_at(upper_t, tx)
        sy = top_s + (ty - top_t) * (_curve_at(lower_s, sx) - top_s) \
            / np.maximum(_curve_at(lower_t, tx) - top_t, 1.0)
        return [_moved(image, opening, box, sx, sy)]
    lower = upper_only is None
    # (Lips barely parted show upper teeth only, down to the lower lip.)
    split = (1 - TEETH_SPLIT) * upper_s + TEETH_SPLIT * lower_s if lower else lower_s
    # The source's interior off its lips' wet edge, either side of the split, in a box.
    ys, xs = np.mgrid[box.y0:box.y1, box.x0:box.x1].astype(np.float32)
    inside = _inset(opening, TEETH_INSET * _gap_px(xy))
    if not lower:
        # Only the teeth, as far as a pixel is as much brighter than the lips as they are:
        # the dark line where the lips met and their wet edge, hung from the upper lip, were
        # a dark band with red smears over the opening's shading.
        lab = _lab(image[box.slices])
        lips, _ = _lab_stats(lab, _lips_mask(xy, box))
        inside = inside * np.clip((lab[..., 0] - lips[0]) / OWN_TEETH_BRIGHTER, 0.0, 1.0)
    # Hung from the upper lip's edge, as far below it as they show under it; of barely parted
    # lips, from just under it (the gap above their tips there, left where it was, put a
    # band of shade between the lip and the teeth).
    drop = np.float32(0.0)
    if upper_only is not None and (inside > 0.5).any():
        under = (ys - _curve_at(upper_s, xs))[inside > 0.5]
        drop = np.float32(max(0.0, float(np.percentile(under, 10)) - upper_only))
    below = ys >= _curve_at(split, xs)
    layers = []
    for lip_s, lip_t, half in ((upper_s, upper_t, ~below), (lower_s, lower_t, below)):
        if lip_s is lower_s and not lower:
            break
        shift = (lip_t - lip_s).mean(axis=0)
        sx = tx - shift[0]
        if lip_s is upper_s:  # (x, y) lands at (x + shift, y - lip_s(x) + lip_t(x + shift))
            sy = ty - _curve_at(lip_t, tx) + _curve_at(lip_s, sx) + drop
        else:  # the lower teeth move with the jaw, as a block
            sy = ty - shift[1]
        layers.append(_moved(image, inside * half, box, sx, sy))
    return layers


def _moved(image: np.ndarray, mask: np.ndarray, box: PixelBox, sx: np.ndarray,
           sy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` read at (``sx``, ``sy``) (pixels of the image, for each of the target's),
    with ``mask`` (over ``box`` of the image) read there too."""
    moved = cv2.remap(image, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    read = cv2.remap(mask.astype(np.float32), sx - box.x0, sy - box.y0, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return moved.astype(np.float32), read


def _upper_teeth_end(image: np.ndarray, mask: np.ndarray, lips: np.ndarray,
                     target_xy: np.ndarray, region: PixelBox) -> float | None:
    """Where, as a fraction of the way down the target's opening, the upper teeth of
    ``image`` (a driver's interior laid on it point for point, over ``region``; ``mask``: the
    opening; ``lips``: the Lab colour of its lips) end across the middle half of its width:
    the first row, counted in :data:`SPLIT_ROWS`, under the first run of rows that hold at
    least half the largest share of tooth pixels (:func:`_tooth_pixels`), that holds less
    (below, its tongue and lower teeth go with the jaw); ``None`` where no row's share
    reaches :data:`TEETH_ROW` (a scream's throat and tongue: no teeth to keep the height
    of; its tongue moved down with the jaw, by d19.jpg, lay by the lower lip, and MediaPipe
    read Grace Hopper's opening 0.76 open for 0.91), or that run starts in its lower third
    (lower teeth alone). (Upper teeth start a little down a tilted opening: d19.mp4's smile
    on s10's, 0.4 to 0.5 of the way down its middle.)"""
    ys, top, bottom, across = _opening_frame(target_xy, region)
    down = (ys - top) / np.maximum(bottom - top, 1.0)
    middle = (mask > 0.5) & (np.abs(across) < 0.5)
    rows = np.clip((down[middle] * SPLIT_ROWS).astype(int), 0, SPLIT_ROWS - 1)
    count = np.bincount(rows, minlength=SPLIT_ROWS)
    teeth = np.bincount(rows, _tooth_pixels(_lab(image)[middle], lips), minlength=SPLIT_ROWS)
    share = teeth / np.maximum(count, 1)
    toothy = share >= 0.5 * share.max()
    start = int(np.argmax(toothy))
    if share.max() < TEETH_ROW or start >= 2 * SPLIT_ROWS // 3:
        return None
    return float(start + np.argmin(np.r_[toothy[start:], False])) / SPLIT_ROWS


#: The rows (of the opening's height) a driver's interior is read in for its upper teeth,
#: and the share of a row's pixels that are teeth for it to show some (d19.mp4's smile:
#: 0.56 at most across s10's tilted opening, 1.0 across s1's).
SPLIT_ROWS, TEETH_ROW = 10, 0.25


def _tooth_pixels(lab: np.ndarray, lips: np.ndarray) -> np.ndarray:
    """Which of the Lab pixels ``lab`` (N, 3) inside a mouth are teeth: brighter than its
    lips (Lab colour ``lips``) by :data:`OWN_TEETH_BRIGHTER` and greyer than them
    (:data:`OWN_TEETH_GREYER`; on a grayscale photo, where nothing is greyer than its lips,
    brighter is enough)."""
    chroma = np.linalg.norm(lab[:, 1:] - 128.0, axis=1)
    greyer = max(OWN_TEETH_GREYER * float(np.linalg.norm(lips[1:] - 128.0)), GREY_CHROMA)
    return (lab[:, 0] > lips[0] + OWN_TEETH_BRIGHTER) & (chroma < greyer)


def _held_rows(target_xy: np.ndarray, region: PixelBox, shown: float, split: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Where a driver's interior that is ``shown`` as tall as the target's opening (at the
    face's scale), parted at ``split`` of the way down it, is read for each pixel of
    ``region``: the row (in the region) at which a map laying it onto the target's opening
    point for point reads it, and how much of it shows there. Above the split it hangs from
    the upper inner lip, below it rises from the lower, each column at its own height;
    between, where the taller opening parts them, it does not (the cavity shows). Where
    they end, a pixel shows as much as it lies above (or below) the end: cut off whole
    pixels, its teeth's tips ended in steps, a dashed line where they slant."""
    ys, top, bottom, _ = _opening_frame(target_xy, region)
    gap = np.maximum(bottom - top, 1.0)
    down = (ys - top) / gap
    # (A pixel just past the upper part's end, nearer it than the lower's, reads on from it.)
    upper = down <= shown * split + 0.5 * (1.0 - shown)
    read = np.where(upper, down / shown, 1.0 - (1.0 - down) / shown)
    ends = np.maximum(shown * split - down, shown * (1.0 - split) - (1.0 - down)) * gap
    return (top + read * gap - region.y0).astype(np.float32), \
        np.clip(ends + 0.5, 0.0, 1.0).astype(np.float32)


def _curve_at(curve: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The height of ``curve`` (points, pixels, running across the image) at ``x``."""
    order = np.argsort(curve[:, 0])
    return np.interp(x, curve[order, 0], curve[order, 1]).astype(np.float32)


def _implied_interior(source: SourceMouth, target_xy: np.ndarray,
                      region: PixelBox, patch: np.ndarray, sigma: float
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
    """A mouth nobody showed open (a closed source, no open driver): the edges of the upper
    teeth in the shade of the upper lip, in the colour of the source's eye whites (see
    :func:`_teeth_white`) warmed by the mouth's own light, lit as its own teeth are on the
    whole where it shows some (their highlight is theirs: they are laid over these). Each
    tooth rounded at its edge,
    the middle ones longest, the gaps between them soft; darkest under the lip and towards the
    corners, where the teeth turn back into the mouth; as soft as the photo's own edges (a
    flat row with hard gaps looked drawn); hidden as far as a moustache hides the upper lip
    (under it, a pale row along the opening's top)."""
    h, w = region.size
    ys, top, bottom, across = _opening_frame(target_xy, region)
    across = np.clip(across, -1.0, 1.0)
    # Where each pixel lies on its tooth: -0.5 to 0.5 from one gap to the next.
    on_tooth = (across + 1.0) / 2.0 * TEETH_ACROSS
    on_tooth = on_tooth - np.floor(on_tooth) - 0.5
    width = max(float(np.ptp(target_xy[canonical_face().mouth_corners, 0])), 1.0)
    reach = np.minimum(IMPLIED_TEETH[0] * width, IMPLIED_TEETH[1] * np.maximum(bottom - top, 1.0))
    length = reach * np.sqrt(1.0 - across**2) \
        * (1.0 - 0.35 * across**2) * (1.0 - 0.3 * (2.0 * on_tooth) ** 4)
    below_lip = ys - top
    edge = max(1.0, 0.7 * sigma)
    teeth = np.clip((length - below_lip) / edge + 0.5, 0.0, 1.0) \
        * np.clip((IMPLIED_SIDES - np.abs(across)) / 0.2, 0.0, 1.0)
    if source.moustache is not None:  # they hang from a lip hidden under its hair, as they are
        teeth *= 1.0 - source.moustache.covers
    lips = _lab_stats(_lab(patch), _lips_mask(target_xy, region))[0]
    white = _teeth_white(source, _lab_stats(_lab(patch), _skin_mask(target_xy, region))[0],
                         body=True)
    lab = np.empty((h, w, 3), np.float32)
    gaps = 1.0 - 0.15 * np.exp(-((0.5 - np.abs(on_tooth)) / 0.12) ** 2)
    shade, lit = IMPLIED_SHADE
    shadow = shade + (1.0 - shade) * np.clip(below_lip / np.maximum(lit * length, 1.0), 0.0, 1.0)
    lab[..., 0] = min(white[0], 245.0) * (1.0 - 0.5 * across**2) * gaps * shadow
    lab[..., 1:] = white[1:] + IMPLIED_WARMTH * (lips[1:] - white[1:])
    enamel = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    enamel = cv2.GaussianBlur(enamel.astype(np.float32), (0, 0), max(0.5, 0.5 * sigma))
    return [(enamel, teeth.astype(np.float32))]


#: A mouth nobody showed open: how far down the opening its upper teeth show, at the middle:
#: this fraction of the mouth's width (they hang from the upper jaw, as long in a wide opening
#: as in a narrow one), at most this fraction of the opening's height (lips parted a little
#: show mostly teeth: a fixed fraction of the gap left a slit a flat dark band),
IMPLIED_TEETH = (0.077, 0.6)
#: ... how far towards the corners (of the half-width), ...
IMPLIED_SIDES = 0.8
#: ... how bright under the lip, in its shade (of their colour), and how far down them (of
#: their length) lit in their colour: real teeth under a lip are lit from a quarter (the
#: astronaut's) to half (d19's) of the way down, past their lips by 1.4 to 1.5 times. (From
#: 0.6 of the way, at most 0.92 of their colour, Grace Hopper's peaked at L 123 under her
#: lips' 139: a faint sliver.)
IMPLIED_SHADE = (0.55, 0.3)
#: ... and how much of the lips' hue they take on (lit from inside a red mouth).
IMPLIED_WARMTH = 0.2
#: Teeth across the mouth's width (corner to corner).
TEETH_ACROSS = 10


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8),
                        cv2.COLOR_RGB2LAB).astype(np.float32)


def _rgb(lab: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8),
                        cv2.COLOR_LAB2RGB).astype(np.float32)


def _mucosa(lips: np.ndarray, skin: np.ndarray) -> tuple[np.ndarray, float]:
    """The Lab colour of a mouth's wet inside as its lips show it (``lips`` and ``skin``: the
    Lab pixels of its lips and of the skin round them), and how pale they are. The
    colour: their mean brightness, in the hue of their most colourful :data:`MUCOSA_TOP`
    (where they turn inward; a pale lip's outer part is nearly skin-coloured), as colourful
    for its brightness as they are, or :data:`LIPS_OVER_SKIN` times the skin round them is:
    pale lips (the astronaut's, Grace Hopper's) barely more colourful than their skin made a
    grey-brown mouth. As pale as they are, at least :data:`MUCOSA_REDDER` redder than that
    skin: pale lips tell little of the mouth's hue (Grace Hopper's, a few degrees redder
    than her skin, made a brown one). A grayscale photo's is grey, a painting's its own red.
    How pale: 1 for lips no more colourful than that, 0 from :data:`PALE_LIPS` times that
    (painted lips, lipstick: they frame an opening in their own colour) or in a grayscale
    photo."""
    if not len(lips) or not len(skin):
        return np.array([128.0, 128.0, 128.0]), 0.0
    ab = lips[:, 1:] - 128.0
    chroma = np.linalg.norm(ab, axis=1)
    top = ab[chroma >= np.quantile(chroma, 1.0 - MUCOSA_TOP)].mean(axis=0)
    bright = float(lips[:, 0].mean())
    own = _chroma_over_l(lips.mean(axis=0))
    skin_colour = skin.mean(axis=0)
    least = LIPS_OVER_SKIN * _chroma_over_l(skin_colour)
    # (A grayscale photo: its lips' colour tells nothing.)
    pale = 0.0 if least < 1e-3 else \
        float(np.clip((PALE_LIPS - own / least) / (PALE_LIPS - 1.0), 0.0, 1.0))
    hue = float(np.arctan2(top[1], top[0]))
    skin_hue = float(np.arctan2(skin_colour[2] - 128.0, skin_colour[1] - 128.0))
    hue -= pale * max(0.0, hue - (skin_hue - np.radians(MUCOSA_REDDER)))
    return np.r_[bright, 128.0 + max(own, least) * bright * np.array([np.cos(hue), np.sin(hue)])
                 ], pale


def _lips_and_skin(image: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Lab pixels of a face's lips and of the skin round them (in :func:`_round_mouth`)."""
    box = _round_mouth(image, xy)
    lab = _lab(image[box.slices])
    return lab[_lips_mask(xy, box) > 0], lab[_skin_mask(xy, box) > 0]


def _round_mouth(image: np.ndarray, xy: np.ndarray) -> PixelBox:
    """The box round a face's lips and the skin round them, as far out as
    :data:`MUCOSA_SKIN` of the mouth's width."""
    outline = xy[canonical_face().lip_loops[0], :2]
    return PixelBox.around(outline, image.shape[:2], MUCOSA_SKIN * float(np.ptp(outline[:, 0])))


def _chroma_over_l(colour: np.ndarray) -> float:
    """How colourful a Lab ``colour`` is for its brightness: its chroma over its L."""
    return float(np.linalg.norm(colour[1:] - 128.0)) / max(float(colour[0]), 1.0)


def _wet_rim(mucosa: np.ndarray, pale: float, opening: float) -> WetRim:
    """The wet inner surface of lips round an ``opening`` (its height over its width) of a
    mouth whose inside is ``mucosa`` (:func:`_mucosa`), as much as they are ``pale``: darker
    than their outer surface, turning into the mouth (pale, thin lips, Grace Hopper's,
    framed the dark opening in nearly their skin's colour, a hole pasted in), and hidden by
    lips barely parted, whose inner surfaces face each other; of any lips, where they meet
    in the corners, as the creases there."""
    parted = float(np.clip((opening - RIM_FROM) / RIM_FROM, 0.0, 1.0))
    return WetRim(_darkened(mucosa, np.array([[RIM_DARK * mucosa[0]]]))[0, 0], pale * parted,
                  parted)


def _inside_over_skin(lab: np.ndarray, shown: np.ndarray, skin: np.ndarray) -> float:
    """How many times as colourful for its brightness (:func:`_chroma_over_l`) a driver's
    mouth's inside (``lab``, where ``shown`` weighs it) is as its skin (Lab pixels ``skin``),
    at most as real mouths' are (:data:`INSIDE_OVER_SKIN`); as real mouths' typically are
    where it shows too little of it, or its skin (a grayscale photo) tells nothing."""
    typical, most = INSIDE_OVER_SKIN
    skin_colour = _chroma_over_l(skin.mean(axis=0)) if len(skin) else 0.0
    if shown.sum() < OWN_TEETH_MIN_PX or skin_colour < 1e-3:
        return typical
    return min(_chroma_over_l(_weighted_mean(lab, shown)) / skin_colour, most)


def _weighted_mean(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The mean of ``values`` (an image's channels) weighed by ``weight`` (its pixels')."""
    return (values * weight[..., None]).sum(axis=(0, 1)) / max(float(weight.sum()), 1e-6)


def _darkened(colour: np.ndarray, lightness: np.ndarray) -> np.ndarray:
    """Lab ``colour`` at each of ``lightness`` (Lab L) under its own: its hue kept and its
    chroma as the brightness relative to its own raised to :data:`DARK_CHROMA`: the inside
    of a mouth keeps more of its colour than of its light (darkened as by a shadow, in
    proportion, pale lips' was a grey brown)."""
    dim = np.clip(lightness / max(float(colour[0]), 1.0), 0.0, 1.0) ** DARK_CHROMA
    return np.dstack([lightness, *(128.0 + dim * (c - 128.0) for c in colour[1:])])


#: The colour of a mouth's wet inside (:func:`_mucosa`): in the hue of its lips' most
#: colourful fraction, ...
MUCOSA_TOP = 0.25
#: ... at least this many times as colourful, for its brightness (Lab chroma over L), as the
#: skin round the lips (as far out as this fraction of the mouth's width): real lips are
#: (the drivers d19, d12 and d3: 1.3, 1.24 and 1.18).
LIPS_OVER_SKIN, MUCOSA_SKIN = 1.25, 0.3
#: Pale lips' mouth is at least this many degrees of hue (Lab a*b*) redder than the skin: real
#: mouths' insides are 16, 26 and 24 degrees redder than the skin round them (d19, d12, d3).
MUCOSA_REDDER = 16.0
#: Real mouths' insides, wide open, are typically this many times as colourful for their
#: brightness as the skin round them (d19; d12 1.47), at most this many (d3): a driver's
#: interior is as colourful against the source's skin as against its own, at least.
INSIDE_OVER_SKIN = (1.75, 2.0)
#: Lips this many times as colourful as that are not pale at all (the sample photos' and
#: paintings' lips, 1.7 to 4.3 times; the astronaut's and Grace Hopper's 0.9).
PALE_LIPS = 1.5
#: The lips' wet inner surface round an opening (:func:`_wet_rim`) is this fraction as
#: bright as the mouth's inside; it shows once the opening is this tall against its width,
#: fully from twice that.
RIM_DARK, RIM_FROM = 0.7, 0.1


def _lab_stats(lab: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread (plus one) of Lab pixels ``lab`` under ``mask``."""
    sel = lab[mask > 0]
    if not len(sel):
        return np.array([128.0, 128.0, 128.0]), np.ones(3)
    return sel.mean(axis=0), sel.std(axis=0) + 1.0


def _lips_mask(xy: np.ndarray, region: PixelBox) -> np.ndarray:
    outer, inner = canonical_face().lip_loops
    offset = np.array([region.x0, region.y0])
    mask = np.zeros(region.size, np.uint8)
    cv2.fillPoly(mask, [np.round(xy[outer, :2] - offset).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(xy[inner, :2] - offset).astype(np.int32)], 0)
    return mask


def _skin_mask(xy: np.ndarray, region: PixelBox) -> np.ndarray:
    """The skin around the mouth in ``region``: outside the lips, inside the region."""
    outer = canonical_face().lip_loops[0]
    offset = np.array([region.x0, region.y0])
    mask = np.ones(region.size, np.uint8)
    cv2.fillPoly(mask, [np.round(xy[outer, :2] - offset).astype(np.int32)], 0)
    return mask


def _teeth_white(source: SourceMouth, skin: np.ndarray, body: bool = False) -> np.ndarray:
    """The Lab colour teeth take on in the source's light: as bright as its own teeth where
    its mouth shows some, lit (or, ``body``, on the whole: :data:`TEETH_BODY`; eye whites
    in shade are dimmer than teeth in the light), else as
    its eye whites, and in their colour (halfway to its own teeth's: see
    :data:`OWN_TEETH_COLOUR`); for eyes too shut or small to read, ivory in the light of
    ``skin`` (the Lab colour of the skin round the mouth); and no bluer than that ivory
    (:data:`IVORY_YELLOW`): eye whites are greyer than teeth."""
    white = source.eye_white
    own = source.shown_teeth_body if body else source.shown_teeth
    if own is not None:
        teeth = own if white is None else \
            np.r_[own[0], white[1:] + OWN_TEETH_COLOUR * (own[1:] - white[1:])]
    else:
        teeth = white if white is not None else \
            np.r_[IVORY_LIGHT * skin[0], 128.0 + IVORY_RED * (skin[1] - 128.0), 128.0]
    # No bluer than ivory in the skin's light (a blue cast on the skin allows bluer teeth).
    # (A new array: ``teeth`` may be the source's own, kept for the next frame.)
    return np.r_[teeth[:2], max(teeth[2], 128.0 + IVORY_YELLOW * (skin[2] - 128.0))]


def _shown_teeth(image: np.ndarray, xy: np.ndarray, brightness: float = TEETH_LIT_TOP
                 ) -> np.ndarray | None:
    """The Lab colour of the teeth a mouth shows between its lips (their brightness the
    ``brightness`` percentile): the pixels inside its inner-lip contour markedly brighter and
    greyer than its lips; ``None`` for fewer than :data:`OWN_TEETH_MIN_PX` of them."""
    outer, inner = canonical_face().lip_loops
    box = PixelBox.around(xy[outer, :2], image.shape[:2], 1)
    lab = _lab(image[box.slices])
    opening = polygon_mask(xy[inner, :2] - [box.x0, box.y0], box.size) > 0.5
    lips, _ = _lab_stats(lab, _lips_mask(xy, box))
    inside = lab[opening]
    teeth = inside[_tooth_pixels(inside, lips)]
    if len(teeth) < OWN_TEETH_MIN_PX:
        return None
    return np.r_[np.percentile(teeth[:, 0], brightness), np.median(teeth[:, 1:], axis=0)]


def _shows_interior(image: np.ndarray, xy: np.ndarray) -> bool:
    """Whether a mouth's opening shows some of its inside between its teeth: at least
    :data:`INTERIOR_SHOWN` of the middle of the opening (the half of its width about its
    centre, off the lips' wet edge) darker than its lips (by :data:`OWN_TEETH_BRIGHTER`).
    Lips parted in a smile over teeth that meet show none (the astronaut's: 0.03; parted
    teeth, 0.36 and more)."""
    outer, inner = canonical_face().lip_loops
    box = PixelBox.around(xy[outer, :2], image.shape[:2], 1)
    lab = _lab(image[box.slices])
    lips, _ = _lab_stats(lab, _lips_mask(xy, box))
    opening = _inset(polygon_mask(xy[inner, :2] - [box.x0, box.y0], box.size),
                     TEETH_INSET * _gap_px(xy)) > 0.5
    middle = opening & (np.abs(_opening_frame(xy, box)[3]) < 0.5)
    if not middle.any():
        return True
    dark = lab[..., 0][middle] < lips[0] - OWN_TEETH_BRIGHTER
    return float(dark.mean()) >= INTERIOR_SHOWN


def _eye_white(image: np.ndarray, xy: np.ndarray) -> np.ndarray | None:
    """The Lab colour of a face's eye whites: inside each eye's contour, the pixels brighter
    than the skin around that eye and greyer than it (each eye against its own skin: a
    turned head lights one side), their brighter half; the brighter eye's. ``None`` for
    eyes too shut or small to show any (under :data:`EYE_WHITE_MIN_PX` such pixels): a shut
    or small eye's contour holds lids and lashes, and its brightest pixels were skin."""
    whites = []
    for loop in (TOPOLOGY.right_eye_loop, TOPOLOGY.left_eye_loop):
        outline = xy[loop, :2]
        width = float(np.ptp(outline[:, 0]))
        box = PixelBox.around(outline, image.shape[:2], 2 + EYE_SKIN_RING[1] * width)
        eye = polygon_mask(outline - [box.x0, box.y0], box.size) > 0.5
        if not eye.any():
            continue
        near, far = (cv2.dilate(eye.astype(np.uint8), cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
            for r in (max(1, round(k * width)) for k in EYE_SKIN_RING))
        lab = _lab(image[box.slices])
        chroma = np.linalg.norm(lab[..., 1:] - 128.0, axis=-1)
        skin = far & ~near
        if not skin.any():
            continue
        # (On a grayscale photo nothing is greyer than its skin: there, brighter is enough.)
        greyer = max(EYE_WHITE_GREYER * float(np.median(chroma[skin])), GREY_CHROMA)
        white = lab[eye & (lab[..., 0] > np.median(lab[..., 0][skin])) & (chroma < greyer)]
        if len(white) >= EYE_WHITE_MIN_PX:
            whites.append(np.median(white[white[:, 0] >= np.median(white[:, 0])], axis=0))
    return max(whites, key=lambda white: white[0]) if whites else None


def _off_the_lips(xy: np.ndarray, rel: np.ndarray, power: float = 1.0) -> np.ndarray:
    """The points ``rel`` of the inner-lip contour of the mouth of landmarks ``xy`` (from
    its centre) moved in off the lips' wet edge: :data:`DRIVER_INSIDE` of the way across the
    opening, and along it as many pixels (``power`` -1: out, as far). (Moved in that
    fraction of the way along it too, a smile's ends, dark where its teeth turn away into
    the cheeks, were cut off: d19.mp4's teeth ran from corner to corner of Grace Hopper's
    opening, 0.76 as bright just inside its corners as in its middle, d19's own 0.42.)"""
    corners = xy[canonical_face().mouth_corners, :2]
    axis = (corners[1] - corners[0]) / max(float(np.linalg.norm(corners[1] - corners[0])), 1e-6)
    along = (rel @ axis)[:, None] * axis
    in_along = 1.0 - (1.0 - DRIVER_INSIDE) * mouth_opening(xy)
    return in_along ** power * along + DRIVER_INSIDE ** power * (rel - along)


def _relit(lightness: np.ndarray, teeth: np.ndarray, knee: float, top: float,
           brightest: float, teeth_top: float | None = None) -> np.ndarray:
    """A driver's interior's ``lightness`` (Lab L) in the source's light, whose teeth are
    ``brightest``: its ``teeth`` (how tooth-like each pixel is) lit in proportion, as by
    another light (their gaps and their shaded side teeth keep their contrast), from
    ``teeth_top`` (how lit the teeth it shows are) to ``brightest``, up as well as down, none
    past it (lit as its lips, d3.mp4's dim teeth, 1.0 to 1.27 times as bright as his lips,
    were a grey band under the astronaut's teeth, dimmer than hers); where it shows none told
    by colour, from ``top`` (its interior's brightest), down only. Its other highlights,
    brighter than ``brightest``, compressed from ``knee`` up (its darks left alone).
    (Compressed from the knee too, Grace Hopper's borrowed teeth kept a quarter of their
    range: their gaps at 0.68 of the driver's, a flat slab.)"""
    rest = lightness
    if top > brightest and top > knee:
        rest = lightness - np.clip(lightness - knee, 0.0, None) \
            * (1.0 - (brightest - knee) / (top - knee))
    lit = lightness * (brightest / max(max(top, brightest) if teeth_top is None else teeth_top,
                                       1.0))
    return teeth * lit + (1.0 - teeth) * rest


def _greyer_than_lips(lab: np.ndarray, lips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How tooth-like each of the Lab pixels ``lab`` inside a mouth is by its colour against
    its lips' (Lab ``lips``), whatever the light: as far as it is less red and less colourful
    than they are (:data:`TEETH_GREYER`), and that, as far as it is no darker than they are
    (:data:`TEETH_NOT_DARKER`). Nothing, for lips too grey to tell
    (:data:`LIPS_TELL_COLOUR`)."""
    chroma = float(np.linalg.norm(lips[1:] - 128.0))
    if chroma < LIPS_TELL_COLOUR or lips[1] - 128.0 < GREY_CHROMA:
        return (np.zeros(lab.shape[:2], np.float32),) * 2
    colour = np.maximum((lab[..., 1] - 128.0) / (lips[1] - 128.0),
                        np.linalg.norm(lab[..., 1:] - 128.0, axis=-1) / chroma)
    (redder, greyer), (dark, lit) = TEETH_GREYER, TEETH_NOT_DARKER
    grey = np.clip((redder - colour) / (redder - greyer), 0.0, 1.0).astype(np.float32)
    return grey, grey * np.clip((lab[..., 0] / max(float(lips[0]), 1.0) - dark) / (lit - dark),
                                0.0, 1.0).astype(np.float32)


def _sharp_teeth(warped: np.ndarray, zoom: float) -> np.ndarray:
    """A driver's interior laid on the target's opening (``warped``, its pixels magnified
    ``zoom`` times) softened as its teeth are: only as far as it is magnified past the
    output's pixels. (Blurred by one of its pixels at its own scale, as its darks are,
    d19.mp4's smile on s10's opening lost its teeth's gaps, a pixel wide: a row of pale
    blocks.)"""
    extra = DRIVER_SOFT * float(np.sqrt(max(zoom * zoom - 1.0, 0.0)))
    return cv2.GaussianBlur(warped, (0, 0), extra) if extra > 0.0 else warped


def _throat(down: np.ndarray, across: np.ndarray) -> np.ndarray:
    """How far back in the mouth a pixel ``down`` and ``across`` the opening
    (:func:`_opening_place`) looks: 1 at the throat, a little above the opening's middle,
    falling off towards the lips."""
    at, spread_down, spread_across = THROAT
    return np.exp(-0.5 * ((across / spread_across) ** 2 + ((down - at) / spread_down) ** 2)
                  ).astype(np.float32)


def _driver_interior(
    driver: tuple[np.ndarray, np.ndarray],
    source: SourceMouth,
    target_xy: np.ndarray,
    region: PixelBox,
    patch: np.ndarray,
    mucosa: np.ndarray,
    lower_lip: np.ndarray,
    meet: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The driver's teeth and tongue on the target's inner-lip contour, soft, in the source's
    light (its lips', its ``lower_lip``'s under a moustache) and colours (the colour of its
    mouth's inside, ``mucosa``: :func:`_mucosa`), its darks deeper at the throat
    (:func:`_throat`) where it shows some, with the mask of where they are; its teeth
    keeping their height in a taller opening, or, teeth that ``meet`` in both faces, laid
    over it point for point, with no throat behind them (none shows between them)."""
    image, xy = driver
    canon = canonical_face()
    inner = canon.lip_loops[1]
    offset = np.array([region.x0, region.y0])
    h, w = region.size
    # The driver's opening, a little inside its inner lip (whose edge is lip, and often a dark
    # line), laid onto the target's opening point for point, ...
    centre_d, centre_t = xy[inner, :2].mean(axis=0), target_xy[inner, :2].mean(axis=0)
    rel_d, rel_t = xy[inner, :2] - centre_d, target_xy[inner, :2] - centre_t
    src = np.r_[centre_d + _off_the_lips(xy, rel_d), centre_d + rel_d, [centre_d]]
    dst = np.r_[target_xy[inner, :2], centre_t + _off_the_lips(target_xy, rel_t, -1.0),
                [centre_t]]
    point_for_point = backward_map(src, dst, region, 1.0)
    mask = polygon_mask(target_xy[inner, :2] - offset, (h, w))
    # ... but no taller than it shows at the face's scale (the openings' widths): a target
    # opening taller than the driver's (a parted source's opening adds to the driver's) had
    # its teeth stretched to its height (s10 by d19.mp4's smile: blocks two thirds of the
    # opening tall). Its teeth keep their height, hung from either lip (:func:`_held_rows`).
    drv_region = PixelBox.around(xy[canon.lip_loops[0], :2], image.shape[:2])
    mean_d, std_d = _lab_stats(_lab(image[drv_region.slices]), _lips_mask(xy, drv_region))
    shown = min(1.0, mouth_opening(xy) / max(mouth_opening(target_xy), 1e-6))
    split = None if shown >= 1.0 or meet else _upper_teeth_end(
        cv2.remap(image, point_for_point, None, cv2.INTER_LINEAR,
                  borderMode=cv2.BORDER_REFLECT), mask, mean_d, target_xy, region)
    # (The driver's pixels are magnified as its opening is, held, as its face is.)
    zoom = _gap_px(target_xy) / max(_gap_px(xy), 1.0)
    if split is not None:
        zoom *= shown
        rows, held = _held_rows(target_xy, region, shown, split)
        cols = np.broadcast_to(np.arange(w, dtype=np.float32), (h, w))
        point_for_point = cv2.remap(point_for_point, cols, rows, cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
        mask = mask * held
    warped = cv2.remap(image, point_for_point, None, RESAMPLING, borderMode=cv2.BORDER_REFLECT)
    # Soft: the driver's pixels, magnified onto a larger mouth, were blocks and streaks, and
    # its darks' JPEG blocks, deepened at the throat, a grid (:func:`_sharp_teeth` keeps its
    # teeth's edges).
    soft = cv2.GaussianBlur(warped, (0, 0), DRIVER_SOFT * max(zoom, 1.0))
    # Lit like the source's lips: the lips frame the interior in both faces. (Under a
    # moustache, its lower lip: lit like both, the hair among them, s12's teeth by d0.mp4's
    # smile were a grey band 22 L over his lower lip, the driver's teeth 52 over its own.)
    patch_lab = _lab(patch)
    lips = lower_lip > 0.5 if source.moustache is not None else _lips_mask(target_xy, region)
    mean_s, std_s = _lab_stats(patch_lab, lips)
    lab = _lab(soft)
    inside = mask > 0.5
    if not inside.any():
        return patch, mask
    # How tooth-like each pixel is: as bright, next to the driver's own lips, as its teeth.
    # (Its brightest, and how lit its most lit part is: :data:`LIT_TEETH`, below.)
    lit_95, top_d = (float(v) for v in np.percentile(lab[..., 0][inside], [95, DRIVER_TOP]))
    teeth = np.clip((lab[..., :1] - mean_d[0]) / max(top_d - mean_d[0], 1.0), 0.0, 1.0)
    # ... or, a little brighter than them, as far as its colour is the teeth's, not the lips':
    # side teeth in shade, half as bright, were lip-coloured (brown, in a warm photo's lips).
    lit = inside & (teeth[..., 0] >= TEETH_LIT)
    if lit.sum() >= OWN_TEETH_MIN_PX:
        axis = np.median(lab[..., 1:][lit], axis=0) - mean_d[1:]
        along = ((lab[..., 1:] - mean_d[1:]) @ axis / max(float(axis @ axis), 1.0))[..., None]
        above = np.clip((lab[..., :1] - mean_d[0]) / TEETH_ABOVE_LIPS, 0.0, 1.0)
        teeth = np.maximum(teeth, above * np.clip(along, 0.0, 1.0))
    # ... or, its teeth not lit above its lips (:data:`LIT_TEETH`: lit, they are told by
    # their light, as above), as far as they are greyer than its lips (:func:`_greyer_than_lips`).
    low, high = LIT_TEETH
    lit_teeth = float(smoothstep((lit_95 / max(mean_d[0], 1.0) - low) / (high - low)))
    grey, greyer = _greyer_than_lips(lab, mean_d)
    greyer *= 1.0 - lit_teeth
    teeth = np.maximum(teeth, greyer[..., None])
    # How lit the teeth it shows are, against its lips: its brightest that is not as red as
    # they are (the lips' wet edge is), lit as the source's teeth (:func:`_relit`).
    teeth_lit = None
    if (inside & (greyer >= 0.5)).sum() >= OWN_TEETH_MIN_PX:
        teeth_lit = float(np.percentile(lab[..., 0][inside & (grey >= 0.5)], DRIVER_TOP)) \
            / max(mean_d[0], 1.0)
    lab += teeth * (_lab(_sharp_teeth(warped, zoom)) - lab)
    mucosa_shown = (1.0 - teeth[..., 0]) * inside  # its mouth's inside, its teeth aside
    over_skin = _inside_over_skin(lab, mucosa_shown, _lips_and_skin(image, xy)[1])
    # In proportion (the interior's shading relative to the lips kept): a gain on its
    # differences from them would make a pale-lipped driver's mouth a black hole on a
    # face with contrasty lips. (Held to 0.6-1.5 of his light, a dim driver's interior on
    # a brighter face was darker against its lips than his: d3.mp4's clenched teeth, his
    # lips 2.4 times darker than the astronaut's, a dark band round her teeth.) Its
    # highlights are brought under the source's whites below (:func:`_relit`).
    lab[..., 0] *= mean_s[0] / max(mean_d[0], 1.0)
    # Deeper towards the throat, where it shows darks to deepen (:data:`THROAT_FROM`):
    # there, its darks darker the further they lie under its most lit part (the tongue, the
    # teeth), which keeps its light, down to its own darkest shade (:data:`THROAT_FLOOR`), no
    # further. (Darkened from the middle out, as a cavity, the tongue lay in the dark and the
    # throat no darker: a flat disc. Deepened past its own darkest, the maroon shade round
    # d12.mp4's lit tongue, 0.04 of his opening under luminance 30, was a black ring on
    # every source: 0.29 to 0.33. Behind teeth that meet, no throat shows: deepened there,
    # his lips' wet edge under his teeth and the shade in his mouth's ends, a third darker,
    # were a dark ring round the astronaut's teeth, by d19.mp4's smiles, frames 168 and 240.)
    lit_d = float(np.percentile(lab[..., 0][inside], 95))
    under = np.clip(lab[..., :1] / max(lit_d, 1.0), 0.05, 1.0)
    own = _lab(warped)[..., 0]
    own_under = own / max(float(np.percentile(own[inside], 95)), 1.0)
    shade = inside & (teeth[..., 0] < 0.5)
    darkest = float(np.percentile(own_under[shade], THROAT_FLOOR)) if shade.any() else 0.0
    floor = np.minimum(lab[..., :1], lit_d * darkest)
    deepened = 0.0 if meet else max(float(smoothstep(mouth_opening(xy) / THROAT_FROM - 1.0)),
                                    lit_teeth)
    depth = (THROAT_DEPTH - 1.0) * deepened \
        * _throat(*_opening_place(target_xy, region))[..., None]
    lab[..., :1] = np.maximum(lab[..., :1] * ((1 - teeth) * under ** depth + teeth), floor)
    # The teeth lit as the source's own (:func:`_teeth_white`), no brighter, its other
    # highlights compressed, the darks left alone (:func:`_relit`).
    white = _teeth_white(source, _lab_stats(patch_lab, _skin_mask(target_xy, region))[0])
    # (Under the whites even where the lips are brighter than they are: eyes in shade.)
    brightest = min(white[0], 245.0)
    knee = min(mean_s[0], TEETH_KNEE * brightest)
    top = float(np.percentile(lab[..., 0][inside], DRIVER_TOP))
    lab[..., :1] = _relit(lab[..., :1], teeth, knee, top, brightest,
                           None if teeth_lit is None else teeth_lit * mean_s[0])
    # Colour: the driver's interior relative to its lips, as colourful as the source's lips
    # are next to the driver's (a grayscale photo gets a grayscale mouth), on the colour of
    # the source's mouth's inside (on its lips' mean colour, pale lips' was a greyish
    # mauve), and at least as colourful, against the source's skin, as the driver's is
    # against its own; the teeth take the source's eye whites' colour.
    neutral = 128.0
    saturation = float(np.clip(
        (np.linalg.norm(mean_s[1:] - neutral) + std_s[1:].mean() - 1.0)
        / (np.linalg.norm(mean_d[1:] - neutral) + std_d[1:].mean() - 1.0 + 1e-6), 0.0, 1.5))
    tint = white[1:]
    # ... its darks less colourful than the lips (in their full colour, a maroon disc).
    soft = mucosa[1:] + saturation * (lab[..., 1:] - mean_d[1:])
    dim = np.clip(lab[..., :1] / max(mean_s[0], 1.0), 0.0, 1.0) ** DARK_CHROMA
    soft = neutral + dim * (soft - neutral)
    # (Pale lips, barely more colourful than their skin, took the driver's less colourful
    # too, and its lips' hue shaded darker was shaded twice: Grace Hopper's mouth by d19
    # 1.26 times as colourful as her skin, d19's own 1.75 times its skin.)
    now = _chroma_over_l(np.r_[_weighted_mean(lab[..., :1], mucosa_shown),
                               _weighted_mean(soft, mucosa_shown)])
    least = over_skin * _chroma_over_l(source.lips_and_skin[1].mean(axis=0))
    soft = neutral + max(1.0, least / max(now, 1e-6)) * (soft - neutral)
    lab[..., 1:] = (1 - teeth) * soft + teeth * tint
    rgb = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return rgb.astype(np.float32), mask
