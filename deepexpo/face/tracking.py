"""One person followed through a stream of frames (a video file's, a webcam's), whoever else
comes and goes, their landmarks smoothed over time.

The chosen face of the first frame with a face starts the track; each next frame looks for it
around where it just was. A lost face is found again as the face nearest (by centre) to where
it was last seen, never simply the largest, so the track stays on the same person. Where the
track began among several faces, a face far from there is someone else: the person stays lost
until a face turns up near where they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from ..geometry.filters import OneEuroFilter
from .landmarks import DEFAULT_LANDMARKER, FaceLandmarks, create_landmarker
from .selection import FaceChoice


class FaceTracker:
    """``choice``: the face to start with (``largest`` or a number); ``what`` names the stream
    in messages; ``fps``: its frame rate, for the One-Euro smoothing of the landmarks;
    ``landmarker``: which finds the faces (:func:`~deepexpo.face.landmarks.create_landmarker`),
    made with ``options`` (the points landmarker's ``points``: faces placed by hand on the
    first frame). Owns a
    landmarker: close it, or use it as a context manager."""

    #: Among several faces, how far (in face sizes) from where the person was last seen a face
    #: may turn up and still be taken for them.
    REFIND_WITHIN = 1.0

    def __init__(self, choice: FaceChoice, what: str, fps: float,
                 landmarker: str = DEFAULT_LANDMARKER, options: Mapping[str, Any] = {}):
        self.choice, self.what = choice.single("face to follow"), what
        self._landmarker = create_landmarker(landmarker, tracking=True, **options)
        self._smooth = OneEuroFilter(fps)
        self._previous: FaceLandmarks | None = None  # the last frame's face
        self._last_seen: FaceLandmarks | None = None  # the last face found
        self._among_others = False  # the first frame with a face had several

    def __call__(self, frame: np.ndarray) -> FaceLandmarks | None:
        """The person's smoothed landmarks in this frame (``None``: not found in it)."""
        if self._previous is not None:
            face = self._landmarker.track(frame, self._previous)
        else:
            face = self._find(self._landmarker.detect_all(frame))
        self._previous = face
        if face is None:
            return None
        self._last_seen = face
        return replace(face, points=self._smooth(face.points))

    @property
    def found(self) -> FaceLandmarks | None:
        """The person's landmarks in the last frame as the landmarker found them, unsmoothed
        (``None``: not found in it)."""
        return self._previous

    def _find(self, faces: list[FaceLandmarks]) -> FaceLandmarks | None:
        last = self._last_seen
        if not faces:
            return None
        if last is None:
            self._among_others = len(faces) > 1
            what = f"the first frame with a face of {self.what}"
            return faces[self.choice.pick(faces, what)[0]]

        def distance(face: FaceLandmarks) -> float:
            return float(np.linalg.norm(face.centre - last.centre))

        nearest = min(faces, key=distance)
        if self._among_others and distance(nearest) > self.REFIND_WITHIN * last.side:
            return None
        return nearest

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
