"""Measures of a picture's texture that the redrawn parts (lids, covered eyes, mouths,
stretched skin) share: how strong its fine detail is, robustly, how blurred its edges are, its
colours spread from the pixels that are known (a normalised convolution), and its own grain
read elsewhere, to lay over what is drawn smooth."""

from __future__ import annotations

import cv2
import numpy as np

from ..geometry.boxes import PixelBox

#: A normal distribution's sigma over its median absolute deviation.
MAD_TO_SIGMA = 1.4826
#: An RGB colour's luma (ITU-R BT.601), as a picture's gray levels are read.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
#: The grain (:func:`grain_at`): the picture's detail finer than this blur (pixels; a
#: painting's crackle is a few pixels wide), at most GRAIN_LIMIT times its robust spread (a
#: lash or a wrinkle is no grain), and its mottling at most MOTTLE_LIMIT times its own.
GRAIN_BLUR = 2.2
GRAIN_LIMIT = 8.0
MOTTLE_LIMIT = 1.0
#: :func:`scattered_grain` lays a region's grain in square blocks this many pixels wide
#: (about twice :data:`GRAIN_BLUR`: a speck of noise or crackle whole, a wrinkle's or a lip
#: line's piece no longer), each from one of a table of this many blocks across (a pattern
#: repeating beyond a mouth's size).
GRAIN_BLOCK = 4
GRAIN_TABLE = 64
#: :func:`grain_strength_at` reads a picture's grain over a square this many pixels wide: a
#: few grain blocks of one cheek's skin.
GRAIN_REACH = 17
#: ... its median, in steps of 1 / GRAIN_STEPS of a grey level (a median filter this wide
#: takes bytes).
GRAIN_STEPS = 8
#: :func:`calm_donors` keeps the blocks whose fine detail stays within this many times the
#: area's robust spread (a normal grain's all but never leaves it).
CALM = 3.0
#: :func:`edge_blur` blurs a picture again by this sigma (pixels) ...
BLUR_PROBE = 2.0
#: ... and reads how much of their gradient this share of its pixels, the strongest, keep.
BLUR_STRONGEST = 0.1


def robust_spread(deviations: np.ndarray, axis: int | tuple[int, ...] | None = None
                  ) -> np.ndarray:
    """How far values typically lie from their centre (``deviations``: the values less it),
    as a normal distribution's sigma: their median absolute deviation, scaled. The few
    strong edges of an eye, a lash or a mouth line among fine detail do not inflate it as
    they would a standard deviation."""
    return MAD_TO_SIGMA * np.median(np.abs(deviations), axis=axis)


def channel_spread(detail: np.ndarray) -> np.ndarray:
    """Each channel's robust spread about its median (``detail``: ..., C)."""
    over = tuple(range(detail.ndim - 1))
    return robust_spread(detail - np.median(detail, axis=over), axis=over)


def grain_at(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, mottle: float,
             limit: float = GRAIN_LIMIT) -> np.ndarray:
    """The fine texture of ``image`` (its detail finer than :data:`GRAIN_BLUR`, each
    channel's: a grayscale picture's stays gray, limited to ``limit`` times its robust spread
    there, and its mottling, finer than ``mottle`` (none below :data:`GRAIN_BLUR`), to
    :data:`MOTTLE_LIMIT` times its own) at ``map_x``, ``map_y`` (its pixels, any shape): a
    picture's pores, crackle or noise, to lay over what is drawn without it."""
    blur = max(GRAIN_BLUR, mottle)
    near = PixelBox.around(np.c_[map_x.ravel(), map_y.ravel()], image.shape[:2],
                           2 + 4 * blur)
    crop = image[near.slices].astype(np.float32)
    if min(crop.shape[:2]) < 2:
        return np.zeros((*map_x.shape, 3), np.float32)
    fine = cv2.GaussianBlur(crop, (0, 0), GRAIN_BLUR)
    parts = [(crop - fine, limit)]
    if mottle > GRAIN_BLUR:  # (none finer than GRAIN_BLUR: its part was zeros, blurred twice)
        parts.append((fine - cv2.GaussianBlur(crop, (0, 0), blur), MOTTLE_LIMIT))
    detail = np.zeros((*map_x.shape, 3), np.float32)
    for part, most in parts:
        # (Pixel for pixel: interpolated between pixels, a painting's one-pixel crackle and
        # speckle came out blurred to a smooth patch.)
        read = remap_at(part, np.round(map_x) - near.x0, np.round(map_y) - near.y0)
        clip = most * np.maximum(channel_spread(read), 0.5)
        detail += np.clip(read, -clip, clip)
    return detail


def grain_strength_at(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """How strong the fine texture of ``image`` (its detail finer than :data:`GRAIN_BLUR`,
    each channel's) is around ``map_x``, ``map_y`` (its pixels, any shape: (..., 3)), as a
    normal distribution's sigma: the robust spread over :data:`GRAIN_REACH` pixels (a
    median: the hair beside a cheek, a nose's rim, do not count). A smooth photo's skin
    reads a fraction of its hair, a painting's crackled cheek as much as its crackle."""
    near = PixelBox.around(np.c_[map_x.ravel(), map_y.ravel()], image.shape[:2],
                           2 + GRAIN_REACH)
    crop = image[near.slices].astype(np.float32)
    if min(crop.shape[:2]) < 2:
        return np.zeros((*map_x.shape, 3), np.float32)
    detail = np.abs(crop - cv2.GaussianBlur(crop, (0, 0), GRAIN_BLUR))
    steps = np.clip(np.round(GRAIN_STEPS * detail), 0, 255).astype(np.uint8)
    strength = cv2.medianBlur(steps, GRAIN_REACH).astype(np.float32) \
        * (MAD_TO_SIGMA / GRAIN_STEPS)
    return remap_at(strength, map_x - near.x0, map_y - near.y0)


#: :func:`remap_at` lays maps of any shape out in rows this long (``cv2.remap`` takes under
#: 32767 rows and columns).
REMAP_ROW = 4096


def remap_at(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """``image`` read bilinearly (reflected beyond its edges) at ``map_x``, ``map_y`` (its
    pixels, any shape and size): shape ``map_x.shape + (channels,)``. (A ring of skin's
    pixels as one flat list of over 32767, round a large photo's eye, made ``cv2.remap``
    fail.)"""
    n, channels = map_x.size, image.shape[2] if image.ndim == 3 else 1
    rows, width = max(1, -(-n // REMAP_ROW)), max(1, min(n, REMAP_ROW))

    def laid_out(values: np.ndarray) -> np.ndarray:
        flat = values.astype(np.float32).ravel()
        return np.pad(flat, (0, rows * width - n)).reshape(rows, width)

    read = cv2.remap(image, laid_out(map_x), laid_out(map_y), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT)
    return read.reshape(rows * width, channels)[:n].reshape(*map_x.shape, channels)


def scattered_grain(image: np.ndarray, donors: np.ndarray, size: tuple[int, int],
                    origin: tuple[int, int], limit: float = GRAIN_LIMIT) -> np.ndarray:
    """The fine texture of ``image`` (:func:`grain_at`, no mottling, limited to ``limit``
    times its robust spread) over an area of ``size`` (H, W), read in blocks of
    :data:`GRAIN_BLOCK` pixels each from one of ``donors`` (x, y: pixels whose block, to the
    right and down, lies in the region the grain is read from) picked at random, each flipped
    or turned at random; the blocks counted from the area's pixel ``origin`` (x, y), so that
    the grain moves with what it lies on, the same for the same donors. The picture's own
    specks, noise or crackle, none of its structure: a wrinkle or a lip's lines broken into
    pieces a block long, every way round; about nothing (a narrow region's detail, as by a
    lip's edge, leans one way)."""
    h, w = size
    if not len(donors):
        return np.zeros((h, w, 3), np.float32)
    ys, xs = np.mgrid[0:h, 0:w]
    row, down = np.divmod(ys - origin[1], GRAIN_BLOCK)
    col, across = np.divmod(xs - origin[0], GRAIN_BLOCK)
    table = np.random.default_rng(0)
    pick = table.integers(0, len(donors), (GRAIN_TABLE, GRAIN_TABLE))
    flip_down, flip_across, turn = table.integers(0, 2, (3, GRAIN_TABLE, GRAIN_TABLE), dtype=bool)
    at = row % GRAIN_TABLE, col % GRAIN_TABLE
    down = np.where(flip_down[at], GRAIN_BLOCK - 1 - down, down)
    across = np.where(flip_across[at], GRAIN_BLOCK - 1 - across, across)
    down, across = np.where(turn[at], across, down), np.where(turn[at], down, across)
    start = donors[pick[at]]
    grain = grain_at(image, (start[..., 0] + across).astype(np.float32),
                     (start[..., 1] + down).astype(np.float32), 0.0, limit)
    return grain - np.median(grain, axis=(0, 1))


def calm_donors(image: np.ndarray, box: PixelBox, calm: float = CALM) -> np.ndarray:
    """The pixels (x, y) of ``box`` in ``image`` whose :data:`GRAIN_BLOCK` block (to the right
    and down, inside the box) holds no edge: its fine detail within ``calm`` times the box's
    robust spread in every channel. :func:`scattered_grain` from them scatters the picture's
    specks, not flecks of an eye's highlight, a nose's rim or a drawing's stroke, which on
    a smooth face (a drawing's) showed as pasted squares."""
    crop = image[box.slices].astype(np.float32)
    h, w = crop.shape[:2]
    if h < GRAIN_BLOCK or w < GRAIN_BLOCK:
        return np.empty((0, 2), np.int64)
    detail = crop - cv2.GaussianBlur(crop, (0, 0), GRAIN_BLUR)
    worst = (np.abs(detail) / np.maximum(calm * channel_spread(detail), 0.5)).max(axis=2)
    worst = cv2.dilate(worst, np.ones((GRAIN_BLOCK, GRAIN_BLOCK), np.uint8), anchor=(0, 0))
    rows, cols = np.nonzero(worst[:h - GRAIN_BLOCK + 1, :w - GRAIN_BLOCK + 1] <= 1.0)
    return np.c_[cols + box.x0, rows + box.y0]


def masked_blur(image: np.ndarray, mask: np.ndarray, sigma: float,
                floor: float = 1e-4) -> np.ndarray:
    """``image`` (H, W, C) blurred from the pixels under ``mask`` (H, W, float) only: a
    normalised convolution, its weights at least ``floor`` (far from any known pixel)."""
    weight = cv2.GaussianBlur(mask, (0, 0), sigma)
    return cv2.GaussianBlur(image * mask[..., None], (0, 0), sigma) \
        / np.maximum(weight, floor)[..., None]


def edge_blur(image: np.ndarray, box: PixelBox) -> float:
    """How blurred the picture's edges in ``box`` are, as a Gaussian's sigma (pixels): blurred
    again by :data:`BLUR_PROBE`, a step blurred by ``s`` keeps ``s / hypot(s, probe)`` of its
    gradient (read over the strongest :data:`BLUR_STRONGEST` of the pixels). A small, upscaled
    or out-of-focus photo reads higher than a sharp one (s1's lips 1.7, 2.5 blurred by 1.5):
    what is drawn into it must be no sharper."""
    pad = int(np.ceil(4 * BLUR_PROBE)) + 1
    h, w = image.shape[:2]
    y0, x0 = max(box.y0 - pad, 0), max(box.x0 - pad, 0)
    crop = image[y0:min(box.y1 + pad, h), x0:min(box.x1 + pad, w)]
    gray = (crop.mean(axis=2) if crop.ndim == 3 else crop).astype(np.float32)
    inner = (slice(box.y0 - y0, box.y1 - y0), slice(box.x0 - x0, box.x1 - x0))
    sharp = _gradient(gray)[inner]
    if sharp.size == 0:
        return 0.0
    again = _gradient(cv2.GaussianBlur(gray, (0, 0), BLUR_PROBE))[inner]
    strongest = sharp >= np.quantile(sharp, 1.0 - BLUR_STRONGEST)
    kept = float(again[strongest].sum() / max(float(sharp[strongest].sum()), 1e-6))
    kept = min(kept, 0.99)
    return BLUR_PROBE * kept / float(np.sqrt(1.0 - kept * kept))


def _gradient(gray: np.ndarray) -> np.ndarray:
    return np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3),
                    cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)) / 8.0
