"""The landmarker of faces placed by hand: each set of face points (:mod:`.points`) is a face,
its mesh fitted to the points, so every engine drives a cat, a cartoon or a statue as it
drives a detected face.

``create_landmarker("points", points=[...])``; the points are checked against each image they
are asked about (inside it, a plausible face), with a one-line
:class:`~.points.PointsError`. A tracking one (a source video's) takes the points as placed on
the first frame it is given and follows each face from there by the motion of the picture over
it (:class:`PlacedFaceFollower`): no detector finds these faces in the next frames either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np

from ..errors import NoFaceError
from .landmarks import FaceBox, FaceLandmarks, register_landmarker
from .points import FacePoints
from .topology import MEDIAPIPE_478, FaceTopology


class PlacedFaceFollower:
    """A face placed on one frame, followed through the next ones as the picture moves: each
    frame is matched to the first one's face (its pixels inside the fitted mesh's outline) by
    the affine map that best correlates them (OpenCV's ECC, coarse to fine, from where the face
    was in the frame before), and the first frame's face, carried by the similarity closest to
    that map (shift, turn in the image plane, scale), is the face now. Matching the whole face
    to the first frame works on a flat drawing with few corners to track, and does not drift.
    The points hold the face as placed, which is how a placed face is driven (at rest, in its
    proportions)."""

    #: The face's size in pixels where it is matched (and half that, first).
    MATCH_SIDE = 128.0
    #: The least correlation with the first frame's face that still says where it went; below
    #: it, the face is lost for the frame.
    MIN_CORRELATION = 0.6
    #: ECC stops after this many steps, or once a step gains less correlation than this.
    MAX_STEPS = 60
    MIN_GAIN = 1e-3
    #: How much larger or smaller than on the first frame a face may be matched (beyond, a
    #: match is taken for a mistake).
    MAX_GROWTH = 4.0

    def __init__(self, face: FaceLandmarks, grey: np.ndarray):
        self.first = face
        self.transform = np.eye(3)  # first frame -> now
        scale = min(1.0, self.MATCH_SIDE / max(face.side, 1.0))
        mask = np.zeros(grey.shape, np.uint8)
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(face.xy).astype(np.int32)), 255)
        self._template = [(k, *self._crop(grey, mask, np.eye(3), k)) for k in (scale / 2, scale)]

    @property
    def face(self) -> FaceLandmarks:
        """The first frame's face where the picture has carried it now."""
        linear, shift = self.transform[:2, :2], self.transform[:2, 2]
        scale = float(np.sqrt(abs(np.linalg.det(linear))))
        xy = self.first.xy @ linear.T + shift
        return replace(self.first, points=np.c_[xy, scale * self.first.points[:, 2]])

    def _crop(self, grey: np.ndarray, mask: np.ndarray | None, transform: np.ndarray,
              k: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """The part of ``grey`` around the first frame's face as ``transform`` carries it
        there, scaled by ``k``, (its ``mask`` cut the same way), and the map from the frame's
        pixels to the crop's."""
        x0, y0, x1, y1 = self.first.bbox
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]]) @ transform.T
        (lx, ly), (hx, hy) = corners[:, :2].min(axis=0), corners[:, :2].max(axis=0)
        margin = 0.25 * max(hx - lx, hy - ly)
        to_crop = np.array([[k, 0, -k * (lx - margin)], [0, k, -k * (ly - margin)], [0, 0, 1]])
        size = (int(np.ceil(k * (hx - lx + 2 * margin))), int(np.ceil(k * (hy - ly + 2 * margin))))
        crop = cv2.warpAffine(grey, to_crop[:2], size, flags=cv2.INTER_LINEAR)
        cut = None if mask is None else cv2.warpAffine(mask, to_crop[:2], size,
                                                       flags=cv2.INTER_NEAREST)
        return crop, cut, to_crop

    def follow(self, grey: np.ndarray) -> FaceLandmarks | None:
        """The face in ``grey``; ``None`` where it cannot be matched (it stays where it was
        last seen, to be looked for from there in the next frame)."""
        transform = self.transform
        for k, template, mask, first_to_crop in self._template:
            crop, _, now_to_crop = self._crop(grey, None, transform, k)
            # ECC maps the template's pixels to the matched image's: here the frame's crop
            # (as the template) to the first frame's, whose mask says which pixels are face.
            guess = first_to_crop @ np.linalg.inv(transform) @ np.linalg.inv(now_to_crop)
            try:
                correlation, found = cv2.findTransformECC(
                    crop, template, guess[:2].astype(np.float32), cv2.MOTION_AFFINE,
                    (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, self.MAX_STEPS,
                     self.MIN_GAIN), mask, 5)
            except cv2.error:  # it did not converge: no match here
                return None
            if correlation < self.MIN_CORRELATION:
                return None
            back = np.linalg.inv(first_to_crop) @ np.r_[found, [[0, 0, 1]]] @ now_to_crop
            transform = _similarity(np.linalg.inv(back))
            growth = float(np.hypot(*transform[:2, 0]))
            if not 1 / self.MAX_GROWTH < growth < self.MAX_GROWTH:
                return None
        self.transform = transform
        return self.face


def _similarity(affine: np.ndarray) -> np.ndarray:
    """The similarity (3x3) closest to an affine map (3x3): its shift, and the rotation and
    scale nearest its linear part."""
    (a, b), (c, d) = affine[:2, :2]
    cos, sin = (a + d) / 2, (c - b) / 2
    return np.array([[cos, -sin, affine[0, 2]], [sin, cos, affine[1, 2]], [0.0, 0.0, 1.0]])


class PointsLandmarker:
    """Faces at the places given: one per :class:`FacePoints`, in any image of the size they
    fit; ``tracking``: placed on the first frame given, then followed
    (:class:`PlacedFaceFollower`)."""

    topology: FaceTopology = MEDIAPIPE_478

    def __init__(self, points: Sequence[FacePoints], tracking: bool = False,
                 what: str = "face points"):
        self.points = tuple(points)
        self.tracking = tracking
        self.what = what
        self._fitted: dict[tuple[int, int], list[FaceLandmarks]] = {}
        self._followers: list[PlacedFaceFollower] | None = None

    def _faces(self, image: np.ndarray) -> list[FaceLandmarks]:
        size = (int(image.shape[0]), int(image.shape[1]))
        if size not in self._fitted:
            several = len(self.points) > 1
            self._fitted[size] = [
                face.fit(size, f"{self.what}, face {i}" if several else self.what)
                for i, face in enumerate(self.points)]
        return self._fitted[size]

    def _followed(self, image: np.ndarray) -> list[FaceLandmarks | None]:
        """Each face in this frame, the next one of a stream (``None``: not followed here)."""
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if self._followers is None:
            self._followers = [PlacedFaceFollower(face, grey) for face in self._faces(image)]
            return [follower.face for follower in self._followers]
        return [follower.follow(grey) for follower in self._followers]

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
        faces = self._followed(image) if self.tracking else self._faces(image)
        return sorted((face for face in faces if face is not None),
                      key=lambda face: face.centre[0])

    def track(self, image: np.ndarray, previous: FaceLandmarks) -> FaceLandmarks | None:
        faces = [face for face in (self._followed(image) if self.tracking
                                   else self._faces(image)) if face is not None]
        return min(faces, key=lambda face: float(np.linalg.norm(face.centre - previous.centre)),
                   default=None)

    def close(self) -> None:
        self._fitted.clear()
        self._followers = None


register_landmarker("points", lambda tracking, points=(), what="face points":
                    PointsLandmarker(points, tracking, what))
