"""Mouth interior for a mouth that opens wider than the source photo's.

The warp can only stretch what the source shows; where the target's lips part further, the gap
is filled. A closed source mouth gets the driver's own mouth interior (teeth, tongue), mapped
onto the target's inner lip contour and colour-matched to the source, or, with no driver to copy
from, a dark interior. An open source mouth keeps its own teeth: the upper ones follow the upper
lip, the lower ones the lower lip, and the gap between them is dark.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..face.canonical import canonical_face
from ..face.measure import mouth_opening
from .mesh_warp import PixelBox

#: Where an open mouth's teeth part, as a fraction of the way from upper to lower inner lip.
TEETH_SPLIT = 0.75


def _lab_stats(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    sel = lab[mask.reshape(-1) > 0]
    return sel.mean(axis=0), sel.std(axis=0) + 1.0


def _lips_mask(xy: np.ndarray, region: PixelBox) -> np.ndarray:
    outer, inner = canonical_face().lip_loops
    offset = np.array([region.x0, region.y0])
    mask = np.zeros(region.size, np.uint8)
    cv2.fillPoly(mask, [np.round(xy[outer, :2] - offset).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(xy[inner, :2] - offset).astype(np.int32)], 0)
    return mask


def fill_mouth(
    out: np.ndarray,
    target_xy: np.ndarray,
    source: tuple[np.ndarray, np.ndarray],
    driver: tuple[np.ndarray, np.ndarray] | None,
    threshold: float,
    closed_below: float,
    feather_px: float,
) -> None:
    """Paint the interior of the target mouth into ``out`` (in place) where it opened wider
    than the source's (``source`` and ``driver``: image and landmarks)."""
    source_opening = mouth_opening(source[1])
    if mouth_opening(target_xy) - source_opening < threshold:
        return
    _, inner = canonical_face().lip_loops
    h, w = out.shape[:2]
    outer_xy = target_xy[canonical_face().lip_loops[0], :2]
    pad = 4 + 3 * feather_px
    region = PixelBox.around(np.r_[outer_xy - pad, outer_xy + pad], (h, w))
    if region.size[0] < 2 or region.size[1] < 2:
        return
    offset = np.array([region.x0, region.y0])
    alpha = _polygon_mask(target_xy[inner, :2] - offset, region.size)
    alpha = cv2.GaussianBlur(alpha, (0, 0), feather_px)[..., None]

    patch = out[region.slices]
    if source_opening >= closed_below:
        interior = _parted_interior(source, target_xy, region, patch, alpha[..., 0])
    elif driver is not None and mouth_opening(driver[1]) >= threshold:
        interior = _driver_interior(driver, target_xy, inner, region, patch)
    else:
        interior = _dark_interior(patch, alpha[..., 0])
    out[region.slices] = (alpha * interior + (1 - alpha) * patch).astype(np.uint8)


def _polygon_mask(polygon: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An anti-aliased float mask of a polygon given in the mask's pixel coordinates."""
    mask = np.zeros(size, np.float32)
    cv2.fillPoly(mask, [np.round(polygon * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA,
                 shift=2)
    return mask


def _parted_interior(
    source: tuple[np.ndarray, np.ndarray],
    target_xy: np.ndarray,
    region: PixelBox,
    patch: np.ndarray,
    alpha: np.ndarray,
) -> np.ndarray:
    """The source's own mouth interior, split in two: the upper teeth (most of what shows,
    down to ``TEETH_SPLIT`` of the way to the lower lip) move with the upper inner lip, the rest
    with the lower one, over a dark interior showing through the gap."""
    image, xy = source
    canon = canonical_face()
    upper, lower = canon.inner_lip_upper, canon.inner_lip_lower
    _, inner = canon.lip_loops
    offset = np.array([region.x0, region.y0])
    h, w = region.size
    # The split line, from corner to corner through points between the inner lips.
    split = (1 - TEETH_SPLIT) * xy[upper, :2] + TEETH_SPLIT * xy[lower, :2]
    split = np.r_[xy[canon.mouth_corners[:1], :2], split[np.argsort(split[:, 0])],
                  xy[canon.mouth_corners[1:], :2]]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    interior = _dark_interior(patch, alpha)
    for lip in (upper, lower):
        shift = (target_xy[lip, :2] - xy[lip, :2]).mean(axis=0)
        # Source pixel (x, y) lands at (x, y) + shift: sample the source at region - shift.
        sx, sy = xs + offset[0] - shift[0], ys + offset[1] - shift[1]
        moved = cv2.remap(image, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mouth = _polygon_mask(xy[inner, :2] - offset + shift, (h, w))
        below = sy >= np.interp(sx, split[:, 0], split[:, 1])
        half = mouth * (below if lip is lower else ~below)
        interior = half[..., None] * moved + (1 - half[..., None]) * interior
    return interior


def _driver_interior(
    driver: tuple[np.ndarray, np.ndarray],
    target_xy: np.ndarray,
    inner: np.ndarray,
    region: PixelBox,
    patch: np.ndarray,
) -> np.ndarray:
    """The driver's mouth interior on the target's inner-lip contour, in the source's colours."""
    image, xy = driver
    offset = np.array([region.x0, region.y0])
    affine, _ = cv2.estimateAffine2D(
        xy[inner, :2].astype(np.float32), (target_xy[inner, :2] - offset).astype(np.float32)
    )
    if affine is None:
        return _dark_interior(patch, np.ones(region.size, np.float32))
    h, w = region.size
    warped = cv2.warpAffine(image, affine, (w, h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT)
    # Match the lips' colour statistics: the lips frame the interior in both faces.
    drv_region = PixelBox.around(xy[canonical_face().lip_loops[0], :2], image.shape[:2])
    mean_d, std_d = _lab_stats(image[drv_region.slices], _lips_mask(xy, drv_region))
    mean_s, std_s = _lab_stats(patch, _lips_mask(target_xy, region))
    lab = cv2.cvtColor(warped, cv2.COLOR_RGB2LAB).astype(np.float32)
    gain = float(np.clip(std_s[0] / std_d[0], 0.5, 2.0))
    lab[..., 0] = (lab[..., 0] - mean_d[0]) * gain + mean_s[0]
    # Chroma: as colourful as the source's lips are next to the driver's (a grayscale photo
    # gets a grayscale mouth, a painting its palette's saturation), shifted half the way to
    # the source's lip colour, so teeth stay white.
    neutral = 128.0
    saturation = float(np.clip(
        (np.linalg.norm(mean_s[1:] - neutral) + std_s[1:].mean() - 1.0)
        / (np.linalg.norm(mean_d[1:] - neutral) + std_d[1:].mean() - 1.0 + 1e-6), 0.0, 1.5))
    lab[..., 1:] = neutral + saturation * (lab[..., 1:] - neutral + 0.5 * (mean_s - mean_d)[1:])
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def _dark_interior(patch: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """A plausible dark mouth: the lips' hue, much darker, darkest in the middle."""
    ring = cv2.dilate((alpha > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) - (alpha > 0.5)
    colour = patch[ring > 0].mean(axis=0) if ring.any() else np.array([90.0, 40.0, 40.0])
    dist = cv2.distanceTransform((alpha > 0.05).astype(np.uint8), cv2.DIST_L2, 3)
    shade = 0.35 - 0.25 * np.clip(dist / (dist.max() + 1e-6), 0, 1)
    return (colour[None, None, :] * shade[..., None]).astype(np.float32)
