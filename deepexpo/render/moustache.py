"""An upper lip hidden under a moustache.

A landmark detector puts a moustached face's upper lip where a lip would be, in the hair
(s12: two thirds of its upper lip's band is hair, under half as light as its lower lip; its
closed lips meet at the hair's lower edge). Opened, the mouth's top edge is that hair's lower
edge: the hairs hang over the opening with their own texture and the opening is dark under
them, in their shade. Drawn as a lip's edge, it was a clean oval punched through the
moustache with a lip-coloured rim and a row of pale teeth along its top.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..geometry.boxes import PixelBox
from ..geometry.ramps import smoothstep
from .lips import lip_contours, polygon_mask

#: An upper-lip pixel is hair where it is darker than this fraction of the lower lip's median
#: lightness and no more colourful than the lower lip's median (a lip in shade keeps its red:
#: Grace Hopper's upper lip, darker than her lower one, is redder) ...
HAIR_DARKER = 0.45
#: ... and the lip is hidden under hair from the first to the second of these fractions of
#: such pixels in the middle half of its width: s12's 0.66 (0.71 in grey); in a grey photo,
#: where lips have no colour to tell them by, 0.21 of Grace Hopper's dark lips, 0.23 of the
#: drawn s7's; in colour, 0.02 at most of any other sample's.
HAIR_COVERS = (0.35, 0.55)


@dataclass(frozen=True)
class Moustache:
    """Hair over a source's upper lip: how much of the lip it ``covers`` (0 to 1), the RGB
    colour of the ``hair`` (its median) and of what shows between its strands at its edge
    (``between``, the lower lip's median)."""

    covers: float
    hair: np.ndarray
    between: np.ndarray

    def strands(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The hair in RGB pixels ``rgb`` (..., 3): its colour in each and how much of each it
        is (its opacity, by their lightness: whole at the hair's, none at the lower lip's).
        A pixel at its edge is hair and the lip between its strands, mixed; laid over an
        opening, the less of it is hair, the more its colour is the hair's (the lip mixed in
        was a pale rim round the top; taken out of each pixel, its reds left an orange one)."""
        light, dark = _lightness(np.stack([self.between, self.hair]))
        opacity = np.clip((light - _lightness(rgb)) / max(light - dark, 1.0), 0.0, 1.0)
        seen = opacity[..., None]
        return seen * rgb + (1.0 - seen) * self.hair, opacity

    def shade(self, down: np.ndarray) -> np.ndarray:
        """How deep in the hair's shade each place of an opening under it lies (0 to 1;
        ``down``: 0 at its top, 1 at its bottom): wholly at its top, none from halfway down."""
        return self.covers * (1.0 - smoothstep(2.0 * down))


def _lightness(rgb: np.ndarray) -> np.ndarray:
    """The Lab lightness of RGB pixels ``rgb`` (..., 3)."""
    pixels = np.clip(np.asarray(rgb, np.float32), 0, 255).astype(np.uint8).reshape(-1, 1, 3)
    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB)
    return lab[..., 0].astype(np.float32).reshape(np.shape(rgb)[:-1])


def moustache(image: np.ndarray, xy: np.ndarray) -> Moustache | None:
    """The hair over the upper lip of a face (RGB ``image``, landmarks ``xy``, pixels), if
    any covers it (:data:`HAIR_DARKER`, :data:`HAIR_COVERS`)."""
    contours = lip_contours(xy)
    box = PixelBox.around(np.concatenate([c for lip in contours for c in lip]),
                          image.shape[:2], 2)
    patch = image[box.slices]
    lo, hi = np.percentile(contours[0][0][:, 0], [25, 75]) - box.x0
    middle = (np.arange(box.size[1]) >= lo) & (np.arange(box.size[1]) <= hi)
    upper_lip, lower_lip = ((polygon_mask(np.r_[inner, outer[::-1]] - [box.x0, box.y0],
                                          box.size) > 0.5) & middle[None, :]
                            for inner, outer in contours)
    if not upper_lip.any() or not lower_lip.any():
        return None
    rgb = patch[upper_lip].astype(np.float32)
    between = np.median(patch[lower_lip].astype(np.float32), axis=0)
    lab = cv2.cvtColor(patch, cv2.COLOR_RGB2LAB).astype(np.float32)
    upper, lower = lab[upper_lip], lab[lower_lip]
    light = float(np.median(lower[:, 0]))
    chroma = np.linalg.norm(upper[:, 1:] - 128.0, axis=1)
    hair = (upper[:, 0] < HAIR_DARKER * light) \
        & (chroma <= float(np.median(np.linalg.norm(lower[:, 1:] - 128.0, axis=1))))
    start, full = HAIR_COVERS
    covers = float(np.clip((hair.mean() - start) / (full - start), 0.0, 1.0))
    if covers <= 0.0:
        return None
    return Moustache(covers, np.median(rgb[hair], axis=0), between)
