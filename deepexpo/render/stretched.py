"""Texture that a warp stretches further than it can show, evened out (on a face placed by
hand: an animal's, a drawing's; a person's closed lips, :func:`even_stretched_lips`).

A human driver's motion on an animal stretches some of its skin many times over: a snout's
thin lips made the round ring of a screaming mouth (its corners, a point, become the ring's
sides), fur between a brow and the forehead pulled up. A warp draws a stretched texture as
streaks along the stretch (fur and wrinkles become stripes), which no animal has. So where
the map stretches past :data:`STRETCH_FROM` times in some direction (its Jacobian's smaller
singular value), the output is blurred as far as it was stretched (the stripes are its
fine texture drawn out: blurred, only the colours stay) and the picture's grain laid back on
(its own specks, fur or paper read there, scattered: none of its structure), fading in up to
:data:`STRETCH_FULL`.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ..face.canonical import canonical_face
from ..geometry.boxes import PixelBox
from .mesh_warp import map_stretch
from .texture import calm_donors, channel_spread, grain_strength_at, scattered_grain

#: A stretch (output pixels per source pixel, in its most stretched direction) past which the
#: texture is evened out, fully from the second.
STRETCH_FROM, STRETCH_FULL = 1.8, 3.0
#: The blurs a stretched texture is evened out with (pixels), for a stretch of these.
BLURS = ((3.0, 1.5), (6.0, 3.0))
#: How far (pixels) evening out carries a pixel's colour: three of its widest blur's sigmas.
BLUR_REACH = 3 * BLURS[-1][1]


def even_stretched(out: np.ndarray, image: np.ndarray, source_xy: np.ndarray,
                   region: PixelBox, keep: np.ndarray | None = None,
                   stretch_from: tuple[float, float] = (STRETCH_FROM, STRETCH_FULL),
                   donors: Callable[[], np.ndarray] | None = None,
                   within: PixelBox | None = None) -> None:
    """Even out (in place) the texture of ``out``, the warp of ``image`` through the map
    ``source_xy`` over ``region`` (:func:`~deepexpo.render.mesh_warp.backward_map`), where
    the map stretches it (past ``stretch_from``'s first, fully from its second); ``keep``: a
    mask of ``out`` already painted over (a covered eye), left as it is; ``donors``: gives
    the region's pixels its grain is read at (:func:`~deepexpo.render.texture.calm_donors`,
    asked for only where something is evened: a video's source keeps them for every frame;
    reading them takes longer than a frame's warp), by default read here; ``within``: a box
    of ``out`` beyond which nothing is evened, the stretch read there alone (over the whole
    region, a fifth of a frame's warp)."""
    if within is None:
        stretch = map_stretch(source_xy)
    else:
        stretch = np.ones(source_xy.shape[:2], np.float32)
        near = (slice(max(within.y0 - region.y0, 0), max(within.y1 - region.y0, 0)),
                slice(max(within.x0 - region.x0, 0), max(within.x1 - region.x0, 0)))
        if stretch[near].size:
            stretch[near] = map_stretch(source_xy[near])
    start, full = stretch_from
    weight = np.clip((stretch - start) / (full - start), 0.0, 1.0)
    if keep is not None:
        weight[keep[region.slices]] = 0.0
    if not weight.any():
        return
    rows, cols = np.nonzero(weight)
    pad = BLUR_REACH + 2
    y0, y1 = max(int(rows.min() - pad), 0), min(int(rows.max() + pad) + 1, weight.shape[0])
    x0, x1 = max(int(cols.min() - pad), 0), min(int(cols.max() + pad) + 1, weight.shape[1])
    box = PixelBox(region.x0 + x0, region.y0 + y0, region.x0 + x1, region.y0 + y1)
    weight = cv2.GaussianBlur(weight[y0:y1, x0:x1].astype(np.float32), (0, 0), 1.0)
    stretch = stretch[y0:y1, x0:x1]
    patch = out[box.slices].astype(np.float32)
    (k0, s0), (k1, s1) = BLURS
    far = np.clip((stretch - k0) / (k1 - k0), 0.0, 1.0)[..., None]
    smooth = (1 - far) * cv2.GaussianBlur(patch, (0, 0), s0) \
        + far * cv2.GaussianBlur(patch, (0, 0), s1)
    # (Read from the whole region and counted from its corner: the same at each place of the
    # picture in every frame, however far the stretch reaches.)
    grain = scattered_grain(
        image, calm_donors(image, region) if donors is None else donors(), box.size,
        (region.x0 - box.x0, region.y0 - box.y0))
    # No stronger than the texture it replaces: the donors are the region's, its hair or fur
    # as well as its skin, and laid at their strength on a smooth photo's skin (s42 turned
    # back) they were a coarse grain the cheek never had.
    own = grain_strength_at(image, *(source_xy[y0:y1, x0:x1, k] for k in (0, 1)))
    evened = smooth + grain * np.minimum(own / np.maximum(channel_spread(grain), 0.5), 1.0)
    w = weight[..., None]
    out[box.slices] = np.clip(w * evened + (1 - w) * patch, 0, 255).astype(np.uint8)


def even_stretched_lips(out: np.ndarray, image: np.ndarray, source_xy: np.ndarray,
                        region: PixelBox, xy: np.ndarray, beyond: float,
                        donors: Callable[[], np.ndarray]) -> None:
    """Even out (in place, as :func:`even_stretched` does) a closed mouth's lips in ``out``
    (landmarks ``xy``, pixels: inside their outer contour and ``beyond`` the mouth's width
    past it) where the map stretches them.

    Why: a lip the source shows at a slant has few pixels along it, and a motion across the
    slant (vertical, which a turn does not foreshorten) draws it out many times. The painting
    s10 pouting (d8), her far corner down and her upper lip's middle up: her far upper lip's
    end, 12 px along in the source, was drawn 33 px along (stretched 3 to 4 times), its
    crackle's specks and its pale edge drawn out into diagonal streaks, a pale smudge. (An
    opened mouth's lips are redrawn as bands of the source's lips: render/lips.py.)"""
    lips = lips_with_edge(out.shape[:2], xy, beyond)
    # (The stretch read round them as far beyond as the evening blurs: no further.)
    within = PixelBox.around(np.argwhere(lips)[:, ::-1], out.shape[:2], BLUR_REACH + 2)
    even_stretched(out, image, source_xy, region, ~lips, donors=donors, within=within)


def lips_with_edge(shape: tuple[int, ...], xy: np.ndarray, beyond: float) -> np.ndarray:
    """A mask (``shape``) of the lips (landmarks ``xy``, pixels: inside their outer contour)
    and their edge, ``beyond`` the mouth's width past it: what :func:`even_stretched_lips`
    evens as the lips' texture, and a face's evening leaves to it."""
    canon = canonical_face()
    lips = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(xy[canon.lip_loops[0], :2]).astype(np.int32)], 1)
    corners = xy[canon.outer_mouth_corners, :2]
    grow = 2 * int(round(beyond * float(np.linalg.norm(corners[1] - corners[0])))) + 1
    return cv2.dilate(lips, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))) > 0
