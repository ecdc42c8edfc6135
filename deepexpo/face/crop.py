"""A square, upright face crop from our landmarks, and the paste-back: what the neural
engine's networks see and what the identity branch of generation encodes.

As the published pipeline does with its own landmarks: the crop's vertical axis runs from the
eyes' centre to the lips' centre; its side is ``scale`` times the landmarks' extent in that
frame, and it sits ``vy`` sides lower (negative: higher, to include the forehead). The extent is
taken over the face contour below the brows and the brows, the part of the face the published
106-point landmarks cover, so that the crop frames the face as the networks were trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .canonical import canonical_face
from .topology import TOPOLOGY

SCALE = 2.3
VY_RATIO = -0.125
FEATHER = 16 / 512  # paste-back mask ramp, as a fraction of the crop side


@lru_cache(maxsize=1)
def _extent_points() -> np.ndarray:
    """Face-contour landmarks at or below the brows, and the brows."""
    p = canonical_face().points
    oval = TOPOLOGY.face_oval_loop
    below_brows = oval[p[oval, 1] >= p[TOPOLOGY.brows, 1].min()]
    return _shared(np.r_[below_brows, TOPOLOGY.brows])


def _shared(array: np.ndarray) -> np.ndarray:
    """``array``, read-only: a cached value is shared by every thread that renders."""
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class FaceCrop:
    """A square in the image: centre, axes (unit vectors) and side, in pixels."""

    centre: np.ndarray  # (2,)
    ux: np.ndarray  # (2,) the crop's x axis in the image
    uy: np.ndarray  # (2,) its y axis: from the eyes towards the mouth
    side: float

    @classmethod
    def from_landmarks(cls, xy: np.ndarray, scale: float = SCALE,
                       vy_ratio: float = VY_RATIO) -> FaceCrop:
        eyes = np.r_[TOPOLOGY.right_eye, TOPOLOGY.left_eye]
        uy = xy[TOPOLOGY.lips].mean(axis=0) - xy[eyes].mean(axis=0)
        uy = uy / (np.linalg.norm(uy) + 1e-9)
        ux = np.array([uy[1], -uy[0]])  # image right for an upright face
        pts = xy[_extent_points()]
        mean = pts.mean(axis=0)
        rel = (pts - mean) @ np.c_[ux, uy]
        lo, hi = rel.min(axis=0), rel.max(axis=0)
        mid = (lo + hi) / 2
        side = float(scale * (hi - lo).max())
        centre = mean + ux * mid[0] + uy * mid[1] + uy * vy_ratio * side
        return cls(centre, ux, uy, side)

    @property
    def corners(self) -> np.ndarray:
        """(4, 2) the square's corners in the image."""
        half = self.side / 2
        return np.array([self.centre + half * (sx * self.ux + sy * self.uy)
                         for sx in (-1, 1) for sy in (-1, 1)])

    def to_crop(self, size: int) -> np.ndarray:
        """(2, 3) affine from image pixels to a ``size`` x ``size`` crop."""
        s = size / self.side
        rot = s * np.stack([self.ux, self.uy])
        return np.c_[rot, size / 2 - rot @ self.centre]

    def from_crop(self, size: int) -> np.ndarray:
        return cv2.invertAffineTransform(self.to_crop(size))

    def cut(self, image: np.ndarray, size: int) -> np.ndarray:
        """The crop at ``size``: cut at twice that, then area-averaged down, as the networks'
        training crops were (512, then 256)."""
        crop = cv2.warpAffine(image, self.to_crop(2 * size), (2 * size, 2 * size),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)

    def paste(self, image: np.ndarray, crop: np.ndarray) -> np.ndarray:
        """``image`` with ``crop`` (any square size) blended back in, its border feathered."""
        size = crop.shape[0]
        h, w = image.shape[:2]
        back = self.from_crop(size)
        warped = cv2.warpAffine(crop, back, (w, h), flags=cv2.INTER_LINEAR)
        mask = cv2.warpAffine(_feather_mask(size), back, (w, h), flags=cv2.INTER_LINEAR)[..., None]
        return np.clip(mask * warped + (1 - mask) * image, 0, 255).astype(np.uint8)


@lru_cache(maxsize=4)
def _feather_mask(size: int) -> np.ndarray:
    """1 inside, ramping linearly to 0 over the outermost ``FEATHER`` of each side."""
    ramp = max(1.0, FEATHER * size)
    edge = np.minimum(np.arange(size), np.arange(size)[::-1]) + 0.5
    r = np.clip(edge / ramp, 0.0, 1.0).astype(np.float32)
    return _shared(np.minimum(r[:, None], r[None, :]))
