"""Which face of a photo with several to drive: the largest (the default), every one, or one by
its number.

Faces are numbered from 0, left to right by their centres, the order a group photo is read in.
The CLI's ``--face`` and ``--driving-face``, the app's face picker and the Python API all take a
:class:`FaceChoice`; the app shows the numbers on the photo (:func:`numbered_faces`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError, NoFaceError
from ..io.images import fit_within
from .landmarks import FaceLandmarks

logger = logging.getLogger(__name__)

LARGEST, ALL = "largest", "all"


@dataclass(frozen=True)
class FaceChoice:
    """``which``: ``"largest"``, ``"all"``, or a face's number (from 0, left to right)."""

    which: str | int = LARGEST

    def __post_init__(self) -> None:
        number = isinstance(self.which, int) and not isinstance(self.which, bool)
        if not (self.which in (LARGEST, ALL) or (number and int(self.which) >= 0)):
            raise InputError(f"a face is 'largest', 'all' or a number from 0 (left to right), "
                             f"not {self.which!r}")

    @classmethod
    def parse(cls, value: FaceChoice | str | int) -> FaceChoice:
        """A choice from what a user typed or picked: ``"largest"``, ``"all"``, ``"2"``, 2."""
        if isinstance(value, FaceChoice):
            return value
        if isinstance(value, str):
            text = value.strip().lower()
            value = int(text) if text.isdigit() else text
        return cls(value)

    @property
    def every(self) -> bool:
        return self.which == ALL

    def single(self, what: str) -> FaceChoice:
        """This choice, where one face is wanted (a driver's): ``all`` is refused."""
        if self.every:
            raise InputError(f"the {what} is one face: 'largest' or a number, not 'all'")
        return self

    def __str__(self) -> str:
        return str(self.which)

    @staticmethod
    def options(count: int) -> list[str]:
        """What to offer for a photo with ``count`` faces."""
        return [LARGEST, ALL, *map(str, range(count))] if count > 1 else [LARGEST]

    def pick(self, faces: Sequence[FaceLandmarks], what: str, min_px: float = 0.0) -> list[int]:
        """The chosen faces' places in ``faces`` (left to right, at least one). A face the user
        chose that is under ``min_px`` across is an error; ``all`` leaves such faces out and
        says so."""
        count = len(faces)
        if count == 0:
            raise NoFaceError(f"no face found in {what}")
        if self.every:
            kept = [i for i, face in enumerate(faces) if face.side >= min_px]
            for i in sorted(set(range(count)) - set(kept)):
                logger.warning("face %d in %s is too small to drive (%s); it is left as it is",
                               i, what, _size(faces[i], min_px))
            if not kept:
                raise NoFaceError(f"every face in {what} is too small to drive (at least "
                                  f"{min_px:.0f} px across)")
            return kept
        if self.which == LARGEST:
            index = max(range(count), key=lambda i: faces[i].side)
            if count > 1:
                logger.warning("%d faces found in %s; using the largest, face %d (counting "
                               "from 0, left to right)", count, what, index)
        else:
            index = int(self.which)
            if index >= count:
                raise InputError(f"face {index} was asked for, but {_found(count)} in {what} "
                                 f"({_numbers(count)})")
        if faces[index].side < min_px:
            raise InputError(f"face {index} in {what} is too small to drive "
                             f"({_size(faces[index], min_px)})")
        return [index]


def _found(count: int) -> str:
    return "1 face was found" if count == 1 else f"{count} faces were found"


def _numbers(count: int) -> str:
    return "only face 0" if count == 1 else f"0 to {count - 1}, left to right"


def _size(face: FaceLandmarks, min_px: float) -> str:
    return f"{face.side:.0f} px across, at least {min_px:.0f}"


def numbered_faces(image: np.ndarray, faces: Sequence[FaceLandmarks],
                   max_side: int = 768) -> np.ndarray:
    """A copy of ``image`` (no larger than ``max_side``) with each face boxed and numbered, so
    that a user can say which one to drive."""
    scale = min(1.0, max_side / max(image.shape[:2]))
    out = fit_within(image, max_side).copy()  # drawn on: never the caller's array
    thick = max(2, round(max(out.shape[:2]) / 300))
    for number, face in enumerate(faces):
        x0, y0, x1, y1 = (round(v * scale) for v in face.bbox)
        cv2.rectangle(out, (x0, y0), (x1, y1), (255, 220, 0), thick)
        text = str(number)
        font_scale = max(0.6, (x1 - x0) / 90)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thick)
        top = max(0, y0 - th - base - 2 * thick)
        cv2.rectangle(out, (x0, top), (x0 + tw + 2 * thick, top + th + base + 2 * thick),
                      (255, 220, 0), -1)
        cv2.putText(out, text, (x0 + thick, top + th + thick), cv2.FONT_HERSHEY_SIMPLEX,
                    font_scale, (0, 0, 0), thick, cv2.LINE_AA)
    return out
