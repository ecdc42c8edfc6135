"""The landmarker of faces placed by hand: each set of face points (:mod:`.points`) is a face,
its mesh fitted to the points, so every engine drives a cat, a cartoon or a statue as it
drives a detected face.

``create_landmarker("points", points=[...])``; the points are checked against each image they
are asked about (inside it, a plausible face), with a one-line
:class:`~.points.PointsError`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import NoFaceError
from .landmarks import FaceBox, FaceLandmarks, register_landmarker
from .points import FacePoints
from .topology import MEDIAPIPE_478, FaceTopology


class PointsLandmarker:
    """Faces at the places given: one per :class:`FacePoints`, in any image of the size they
    fit (a still character does not move, so tracking it is finding it again)."""

    topology: FaceTopology = MEDIAPIPE_478

    def __init__(self, points: Sequence[FacePoints], tracking: bool = False,
                 what: str = "face points"):
        self.points = tuple(points)
        self.tracking = tracking
        self.what = what
        self._fitted: dict[tuple[int, int], list[FaceLandmarks]] = {}

    def _faces(self, image: np.ndarray) -> list[FaceLandmarks]:
        size = (int(image.shape[0]), int(image.shape[1]))
        if size not in self._fitted:
            several = len(self.points) > 1
            self._fitted[size] = [
                face.fit(size, f"{self.what}, face {i}" if several else self.what)
                for i, face in enumerate(self.points)]
        return self._fitted[size]

    def detect_boxes(self, image: np.ndarray) -> list[FaceBox]:
        """The points' boxes, largest first."""
        boxes = [FaceBox(*face.bbox, 1.0) for face in self.points]
        return sorted(boxes, key=lambda b: b.area, reverse=True)

    def detect(self, image: np.ndarray, what: str = "image") -> FaceLandmarks:
        faces = self._faces(image)
        if not faces:
            raise NoFaceError(f"no face points given for {what}")
        return max(faces, key=lambda face: face.side)

    def detect_all(self, image: np.ndarray) -> list[FaceLandmarks]:
        return sorted(self._faces(image), key=lambda face: face.centre[0])

    def track(self, image: np.ndarray, previous: FaceLandmarks) -> FaceLandmarks | None:
        faces = self._faces(image)
        return min(faces, key=lambda face: float(np.linalg.norm(face.centre - previous.centre)),
                   default=None)

    def close(self) -> None:
        self._fitted.clear()


register_landmarker("points", lambda tracking, points=(), what="face points":
                    PointsLandmarker(points, tracking, what))
