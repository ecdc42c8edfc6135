"""The motion state passed between stages: head pose plus expression, in the canonical frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .rigid import rotation_to_euler

if TYPE_CHECKING:
    from .proportions import Proportions


@dataclass(frozen=True)
class HeadPose:
    """Similarity transform from the canonical face frame to image pixels:
    ``image = scale * rotation @ canonical + translation``."""

    rotation: np.ndarray  # (3, 3)
    translation: np.ndarray  # (3,) pixels
    scale: float  # pixels per canonical unit (the outer-eye-corner distance)

    @property
    def euler(self) -> tuple[float, float, float]:
        """(pitch, yaw, roll) in degrees, in image axes (x right, y down, z away from the
        camera): positive pitch nods the head down, positive yaw turns it towards the image's
        left (the nose goes left: the subject's own right), positive roll tilts it clockwise."""
        return rotation_to_euler(self.rotation)

    def apply(self, canonical: np.ndarray) -> np.ndarray:
        return self.scale * canonical @ self.rotation.T + self.translation

    def lift(self, xy: np.ndarray, depth: float) -> np.ndarray:
        """(N, 3) canonical points at canonical depth ``depth`` that this pose puts at image
        points ``xy`` (N, 2): for points off the face (hair, ears) that are to move with the
        head in 3D."""
        (a, b, c), (d, e, f) = self.scale * self.rotation[:2]
        u, v = (xy - self.translation[:2] - depth * np.array([c, f])).T
        det = a * e - b * d  # the face plane's image: invertible short of an edge-on head
        return np.c_[(e * u - b * v) / det, (a * v - d * u) / det, np.full(len(xy), depth)]


@dataclass(frozen=True)
class FaceMotion:
    """One face's dynamic semantics, split from its identity.

    ``canonical`` is the face's landmarks in the canonical frame (identity and expression
    together); ``expression`` is its offset from the same person's neutral face, so that
    ``canonical - expression`` is identity alone. ``proportions``: a face whose features are
    not a person's (one placed by hand: a cartoon, an animal) and take expression in their
    own measure; ``None`` for a person's.
    """

    pose: HeadPose
    canonical: np.ndarray  # (478, 3)
    expression: np.ndarray  # (478, 3)
    image_size: tuple[int, int]  # (height, width)
    proportions: Proportions | None = None

    def own_measure(self, expression: np.ndarray) -> np.ndarray:
        """An expression read in the canonical face's measure (a driver's, a control's), in
        this face's."""
        return expression if self.proportions is None else self.proportions.scale(expression)

    def landmarks(self) -> np.ndarray:
        """The face's landmarks in image pixels, (478, 3)."""
        return self.pose.apply(self.canonical)
