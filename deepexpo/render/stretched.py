"""Texture that a warp stretches further than it can show, evened out (on a face placed by
hand: an animal's, a drawing's).

A human driver's motion on an animal stretches some of its skin many times over: a snout's
thin lips made the round ring of a screaming mouth (its corners, a point, become the ring's
sides), fur between a brow and the forehead pulled up. A warp draws a stretched texture as
streaks along the stretch (fur and wrinkles become stripes), which no animal has. So where
the map stretches past :data:`STRETCH_FROM` times in some direction (its Jacobian's smaller
singular value), the output is blurred as far as it was stretched (the stripes are its
fine texture drawn out: blurred, only the colours stay) and the picture's grain laid back on
(as strong as its own fine detail, without its structure), fading in up to
:data:`STRETCH_FULL`.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..geometry.boxes import PixelBox
from .mesh_warp import map_stretch
from .texture import robust_spread

#: A stretch (output pixels per source pixel, in its most stretched direction) past which the
#: texture is evened out, fully from the second.
STRETCH_FROM, STRETCH_FULL = 1.8, 3.0
#: The blurs a stretched texture is evened out with (pixels), for a stretch of these.
BLURS = ((3.0, 1.5), (6.0, 3.0))
#: The picture's fine detail (finer than this blur, pixels) that sets the grain's strength.
GRAIN_BLUR = 1.5


def even_stretched(out: np.ndarray, image: np.ndarray, source_xy: np.ndarray,
                   region: PixelBox, keep: np.ndarray | None = None,
                   stretch_from: tuple[float, float] = (STRETCH_FROM, STRETCH_FULL)) -> None:
    """Even out (in place) the texture of ``out``, the warp of ``image`` through the map
    ``source_xy`` over ``region`` (:func:`~deepexpo.render.mesh_warp.backward_map`), where
    the map stretches it (past ``stretch_from``'s first, fully from its second); ``keep``: a
    mask of ``out`` already painted over (a covered eye), left as it is."""
    stretch = map_stretch(source_xy)
    start, full = stretch_from
    weight = np.clip((stretch - start) / (full - start), 0.0, 1.0)
    if keep is not None:
        weight[keep[region.slices]] = 0.0
    if not weight.any():
        return
    rows, cols = np.nonzero(weight)
    pad = 3 * BLURS[-1][1] + 2
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
    evened = smooth + picture_grain(image, box)
    w = weight[..., None]
    out[box.slices] = np.clip(w * evened + (1 - w) * patch, 0, 255).astype(np.uint8)


def picture_grain(image: np.ndarray, box: PixelBox, strength: float = 1.0) -> np.ndarray:
    """Grain over ``box`` (H, W, 1), ``strength`` times as strong as the picture's own fine
    detail there (its noise, JPEG, fur: a robust spread, which the hard edges of an eye or a
    mouth line do not inflate), with none of its structure; the same for the same picture."""
    crop = image[box.slices].astype(np.float32)
    detail = (crop - cv2.GaussianBlur(crop, (0, 0), GRAIN_BLUR)).mean(axis=2)
    spread = float(robust_spread(detail - np.median(detail)))
    noise = np.random.default_rng(0).standard_normal(box.size).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.6)
    return (strength * spread / max(float(noise.std()), 1e-6) * noise)[..., None]
