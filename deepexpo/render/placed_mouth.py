"""The opened mouth of a face placed by hand: an animal's, a cartoon's.

A person's mouth interior (:mod:`.mouth`) is a dark cavity in the lips' hue with teeth over it,
borrowed from the driver when the source shows none. On an animal or a drawing neither fits:
a dog's black lips or a monkey's pale ones make that cavity a flat black or grey oval, and a
person's teeth are the wrong teeth for any animal (a snout's are far forward, a monkey's have
long canines, a cartoon usually has none), the one part that reads as a human mouth pasted
on. So no driver's teeth are taken (a source that shows its own open mouth keeps its own
teeth, as a person's does), and the opening is painted as a mouth is seen from the front:
the lips' colour just inside them, a palate darker towards the throat (above the middle), and
a tongue at the bottom, lit from the front, all in the source's own colours: the hue of the
reddest part of its mouth line (gums and lips; turned towards red, which a mouth's inside
is, and no more colourful than the picture), as light as its fur or skin around the mouth
allows (a pale animal's mouth is seen in the same light as its face), with the picture's grain
on it (its own specks, fur or paper read around its mouth, scattered: none of its structure,
the closed mouth's line, a whisker).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..face.canonical import canonical_face
from ..geometry.boxes import PixelBox
from .lips import polygon_mask
from .mouth import TONGUE_FROM, OpenedMouth, laid_over, opening_middle, own_teeth
from .texture import calm_donors, masked_blur, scattered_grain
from .tongue import TongueShape, linear_ramp, tongue_at

#: The tongue's, the palate's (just inside the lips) and the throat's lightness, as fractions
#: of the lightness of the face around the mouth.
TONGUE, PALATE, THROAT = 0.5, 0.3, 0.06
#: The tongue (over the lower lip, further down and wider than a person's, its back edge
#: a straight ramp over 0.1 of the opening's height, its sides less dark).
TONGUE_SHAPE = TongueShape(back=0.68, rise=0.3, reach=0.75, fade=0.25, edge=0.1, sides=0.35,
                           ramp=linear_ramp)
#: The lips' edge round the opening: this fraction of the mouth's width wide, in the source's
#: lips' own dark colour (the darkest :data:`LIPS_DARKEST` of its mouth line, a dog's black
#: lips) where that is darker than the lips drawn round the opening: without it, an animal's
#: opening is a soft ball of colour under its nose.
LIP_EDGE = 0.06
LIPS_DARKEST = 10
#: The lips' insides show this fraction of the way into the opening (to its middle), up to
#: the second in a slit (no taller than :data:`TONGUE_FROM` of its width).
LIP_CURL = (0.25, 0.7)
#: The interior's colour: the mouth line's reddest part's hue, kept between pink and red
#: (Lab hue angles, degrees), at this many times its colourfulness but at least
#: :data:`FACE_CHROMA` of the most colourful part of the face around the mouth (a dog's
#: black lips show no colour, its mouth does), no more than that part, nor than
#: :data:`MAX_CHROMA`.
HUE_RANGE = (5.0, 40.0)
CHROMA_GAIN = 1.6
FACE_CHROMA = 0.7
MAX_CHROMA = 40.0
#: The tongue shows once the opening is :data:`~deepexpo.render.mouth.TONGUE_FROM` tall
#: against its width, fully from twice that; a narrower opening lets less light in, down to
#: this fraction of it for a slit.
NARROW = 0.35
#: An opening up to the first of these tall against its width (its lips' gap) is no darker
#: than the lips' own dark colour (the line between them), one from the second as dark as a
#: mouth's inside gets.
PARTED = (0.15, 0.4)
#: ... and its lips' insides show up to this fraction of the way to its middle.
PARTED_CURL = 0.9
#: The opening's edge is this many times softer than a person's mouth's (``feather``): an
#: animal's lips have no sharp wet edge, and a drawing's no outline inside its mouth line.
SOFTER = 2.5
#: The interior's grain, at full light, against the picture's around the mouth.
GRAIN = 0.6


def fill_placed_mouth(
    out: np.ndarray,
    target_xy: np.ndarray,
    source: tuple[np.ndarray, np.ndarray],
    colours: MouthColours,
    grain: np.ndarray,
    threshold: float,
    closed_below: float,
    feather: float,
) -> None:
    """Paint (in place) the interior of a placed face's target mouth into ``out`` where it
    opened wider than the source's (``source``: image and landmarks; ``colours`` and
    ``grain``: its :func:`mouth_colours` and :func:`mouth_grain`; the other arguments as
    :func:`~deepexpo.render.mouth.fill_mouth`'s)."""
    image, source_xy = source
    opened = OpenedMouth.of(out.shape[:2], target_xy, source_xy, threshold, SOFTER * feather)
    if opened is None:
        return
    region, sigma = opened.region, opened.sigma
    offset = np.array([region.x0, region.y0])
    opening = polygon_mask(target_xy[canonical_face().lip_loops[1], :2] - offset, region.size)
    if opening.max() < 0.5:
        return
    alpha = np.clip(1.6 * cv2.GaussianBlur(opening, (0, 0), sigma) - 0.6, 0.0, 1.0)
    patch = out[region.slices].astype(np.float32)
    interior = _interior(patch, opening, target_xy, region, colours)
    light = interior.mean(axis=2, keepdims=True) / 255.0
    # (Counted from the opening's middle, it moves with the mouth.)
    interior += GRAIN * scattered_grain(image, grain, region.size,
                                        opening_middle(target_xy, region)) * np.sqrt(light)
    if opened.source_opening >= closed_below:  # its own teeth, parted with its lips
        interior = laid_over(interior, own_teeth(source, target_xy, region), sigma)
    alpha = alpha[..., None]
    out[region.slices] = np.clip(alpha * interior + (1 - alpha) * patch, 0, 255).astype(np.uint8)


def mouth_grain(image: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The pixels round the source's mouth (``xy``: its landmarks; as far out as the mouth is
    wide) that an opening's grain is read at (:func:`~deepexpo.render.texture.calm_donors`).
    Of the source alone: a video reads them once (its :class:`WarpSource`)."""
    around = xy[canonical_face().lip_loops[0], :2]
    return calm_donors(image, PixelBox.around(around, image.shape[:2],
                                              max(4.0, float(np.ptp(around[:, 0])))))


#: The lightness of the face around a mouth (Lab L), its interior's colour (Lab a, b) and its
#: lips' own dark colour (Lab).
MouthColours = tuple[float, np.ndarray, np.ndarray]


def mouth_colours(image: np.ndarray, xy: np.ndarray) -> MouthColours:
    """The colours of the source's mouth (``xy``: its landmarks) an opening is painted in: the
    lightness of the face around it (its median), the interior's colour and the lips' own dark
    colour. Of the source alone: a video computes them once (its :class:`WarpSource`)."""
    canon = canonical_face()
    outer, inner = canon.lip_loops
    width = float(np.linalg.norm(xy[canon.mouth_corners[0], :2] - xy[canon.mouth_corners[1], :2]))
    region = PixelBox.around(xy[outer, :2], image.shape[:2], max(4.0, width))
    offset = np.array([region.x0, region.y0])
    lab = cv2.cvtColor(image[region.slices], cv2.COLOR_RGB2LAB).astype(np.float32)
    lips = np.zeros(region.size, np.uint8)
    cv2.fillPoly(lips, [np.round(xy[outer, :2] - offset).astype(np.int32)], 1)
    cv2.polylines(lips, [np.round(xy[inner, :2] - offset).astype(np.int32)], True, 1,
                  max(1, int(round(0.04 * width))))
    around = np.zeros(region.size, np.uint8)
    centre = xy[outer, :2].mean(axis=0) - offset
    cv2.circle(around, tuple(int(v) for v in np.round(centre)), max(2, int(width)), 1, -1)
    around[lips > 0] = 0
    mouth_line, face = lab[lips > 0], lab[around > 0]
    if not len(mouth_line) or not len(face):
        return 128.0, np.array([150.0, 140.0]), np.array([64.0, 150.0, 140.0])
    light = float(np.median(face[:, 0]))
    darkest = mouth_line[mouth_line[:, 0] <= np.percentile(mouth_line[:, 0], LIPS_DARKEST)]
    lips = np.median(darkest, axis=0)
    reddest = mouth_line[mouth_line[:, 1] >= np.percentile(mouth_line[:, 1], 85), 1:].mean(0)
    ab = reddest - 128.0
    hue = np.clip(np.degrees(np.arctan2(ab[1], ab[0])), *HUE_RANGE)
    colourful = float(np.percentile(np.linalg.norm(face[:, 1:] - 128.0, axis=1), 95))
    chroma = min(max(CHROMA_GAIN * float(np.linalg.norm(ab)), FACE_CHROMA * colourful),
                 colourful, MAX_CHROMA)
    return (light, 128.0 + chroma * np.array([np.cos(np.radians(hue)), np.sin(np.radians(hue))]),
            lips)


def _interior(patch: np.ndarray, opening: np.ndarray, target_xy: np.ndarray,
              region: PixelBox, colours: MouthColours) -> np.ndarray:
    """The opening as a mouth seen from the front (RGB over ``region``): the lips' own
    colours just inside them, the roof of the mouth in the upper lip's shadow, darkest at
    the throat a little above the middle, and a tongue over the lower lip, lit from the
    front, its back edge in shadow."""
    light, ab, own_lips = colours
    canon = canonical_face()
    h, w = region.size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs, ys = xs + region.x0, ys + region.y0
    upper, lower = target_xy[canon.inner_lip_upper, :2], target_xy[canon.inner_lip_lower, :2]
    corners = target_xy[canon.mouth_corners, :2]
    top = np.interp(xs, *upper[np.argsort(upper[:, 0])].T)
    bottom = np.interp(xs, *lower[np.argsort(lower[:, 0])].T)
    gap = np.maximum(bottom - top, 1.0)
    down = np.clip((ys - top) / gap, 0.0, 1.0)  # 0 at the upper lip, 1 at the lower
    centre, half = corners[:, 0].mean(), max(np.ptp(corners[:, 0]) / 2, 1.0)
    across = np.clip((xs - centre) / half, -1.0, 1.0)
    inside = opening > 0.5
    dist = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)
    depth = np.clip(dist / max(float(dist.max()), 1e-6), 0.0, 1.0)
    # The roof and the throat: dark under the upper lip and at the back, a little above the
    # middle; lighter towards the cheeks' insides and down to the tongue.
    throat = np.exp(-0.5 * ((across / 0.5) ** 2 + ((down - 0.4) / 0.25) ** 2))
    roof = np.clip(1.0 - down / 0.45, 0.0, 1.0)
    dark = np.maximum(throat, 0.8 * roof * (1.0 - 0.5 * across**2))
    tall = float(np.median(gap[inside])) / max(2 * half, 1.0) if inside.any() else 0.0
    # (A mouth opened a little shows no throat: the front of the mouth, in shade.)
    dark *= min(1.0, tall / (2 * TONGUE_FROM))
    shade = PALATE + (THROAT - PALATE) * dark
    # The tongue: a mound over the lower lip, highest in the middle, lit on its top, with
    # the shadow of its back edge above it.
    show = float(np.clip((tall - TONGUE_FROM) / TONGUE_FROM, 0.0, 1.0))
    mass, lit, ridge, sides = tongue_at(down, across, TONGUE_SHAPE)
    tongue = mass * show
    shade = tongue * (TONGUE * lit) + (1 - tongue) * shade
    shade *= 1.0 - 0.5 * show * sides * np.exp(-0.5 * ((down - ridge + 0.03) / 0.05) ** 2)
    # A narrow opening lets little light in.
    shade *= NARROW + (1.0 - NARROW) * min(1.0, tall / (2 * TONGUE_FROM))
    lab = np.empty((h, w, 3), np.float32)
    lab[..., 0] = np.clip(light * shade, 0, 255)
    lab[..., 1:] = 128.0 + (ab - 128.0) * (0.8 + 0.35 * tongue)[..., None]
    # Lips barely parted show the line between them in their own dark colour, no darker:
    # the shade a cavity takes as it opens, no slot of black between pale lips.
    parted = 1.0 - float(np.clip((tall - PARTED[0]) / (PARTED[1] - PARTED[0]), 0.0, 1.0))
    floor = parted * own_lips[0]
    shallow = np.clip((floor - lab[..., 0]) / max(floor, 1.0), 0.0, 1.0)[..., None]
    lab[..., 0] = np.maximum(lab[..., 0], floor)
    lab[..., 1:] = shallow * own_lips[1:] + (1 - shallow) * lab[..., 1:]
    rgb = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    rgb = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), max(0.8, 0.015 * 2 * half))
    # The lips' own colours just inside them (each part of the lips its own): they curl in,
    # with no hard edge to the cavity.
    ring = (cv2.dilate(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            & ~inside).astype(np.float32)
    reach = max(1.5, 0.06 * half)
    lips = masked_blur(patch, ring, reach, floor=1e-3)
    # A quarter of the way in, and in a narrow opening further: a slit between parted lips
    # is mostly their insides, dark only along its middle (else a flat dark bar); towards
    # the corners, where the lips meet, further still.
    curl = LIP_CURL[0] + (LIP_CURL[1] - LIP_CURL[0]) * (1.0 - min(1.0, tall / (2 * TONGUE_FROM)))
    curl = max(curl, PARTED_CURL * parted)
    curl = curl + (1.0 - curl) * np.abs(across) ** 3
    # (Parted, the lips round: their insides fade into the line between them late.)
    rim = np.clip(1.0 - depth / curl, 0.0, 1.0)[..., None] ** (1.5 - parted)
    interior = rim * lips + (1 - rim) * rgb
    # The lips' own dark edge (a dog's black lips), where darker than those drawn round it.
    dark = cv2.cvtColor(np.clip(own_lips, 0, 255).astype(np.uint8)[None, None],
                        cv2.COLOR_LAB2RGB)[0, 0].astype(np.float32)
    # Twice as wide along the lower lip, the jaw's edge seen from the front; a slit's no more
    # than a fifth of its height (it would be all lips).
    reach = np.maximum(np.minimum(LIP_EDGE * 2 * half * (1.0 + down), 0.2 * gap), 0.5)
    edge = np.clip(1.5 - dist / reach, 0.0, 1.0) * inside
    edge *= (lips.mean(axis=2) > dark.mean()).astype(np.float32) * (1.0 - parted)
    edge = cv2.GaussianBlur(edge.astype(np.float32), (0, 0), 0.8)[..., None]
    return edge * dark + (1 - edge) * interior
