"""Faces as dense landmarks, and the boundary behind which they are found.

A :class:`Landmarker` finds faces and their landmarks (in the mesh its
:class:`~.topology.FaceTopology` declares); :func:`create_landmarker` makes one by name, so the
rest of the program never names a detector. MediaPipe's (:mod:`.mediapipe_landmarker`) is the
detector; ``points`` (:mod:`.points_landmarker`) "finds" the faces a user placed by hand
(:mod:`.points`). Another is one class and one :func:`register_landmarker` call.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .topology import FaceTopology


@dataclass(frozen=True)
class FaceLandmarks:
    """Landmarks of one face in pixel units.

    ``points`` is (478, 3): x and y in pixels, z in the same units as x (MediaPipe's convention,
    relative depth with the face centre near 0). ``placed``: a mesh fitted to points placed by
    hand (:mod:`.points`), which describe the face at rest, whatever its proportions.
    """

    points: np.ndarray
    image_size: tuple[int, int]  # (height, width)
    placed: bool = False

    @property
    def xy(self) -> np.ndarray:
        return self.points[:, :2]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        x0, y0 = self.xy.min(axis=0)
        x1, y1 = self.xy.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def centre(self) -> np.ndarray:
        """The centre of the landmarks' box, in pixels."""
        return self._box.centre

    @property
    def side(self) -> float:
        """The larger side of the landmarks' box: how large the face is, in pixels."""
        return self._box.side

    def overlap(self, other: FaceLandmarks) -> float:
        """Intersection over union of the two faces' landmark boxes."""
        return self._box.iou(other._box)

    @property
    def _box(self) -> FaceBox:
        return FaceBox(*self.bbox, 1.0)


@dataclass(frozen=True)
class FaceBox:
    """A face's box in pixels, with the detector's confidence."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def area(self) -> float:
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)

    @property
    def centre(self) -> np.ndarray:
        return np.array([(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2])

    @property
    def side(self) -> float:
        return max(self.x1 - self.x0, self.y1 - self.y0)

    def iou(self, other: FaceBox) -> float:
        ix = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        return inter / (self.area + other.area - inter + 1e-9)


class Landmarker(Protocol):
    """Finds faces in RGB uint8 images. ``tracking`` landmarkers (a video's, a webcam's) follow
    the previous frame's face with :meth:`track`. Not for two threads at once unless it says so;
    :meth:`close` frees what it holds."""

    #: The mesh its landmarks are in: which indices are the lips, eyes, brows.
    topology: FaceTopology

    def detect(self, image: np.ndarray, what: str = "image") -> FaceLandmarks:
        """The largest face; a one-line :class:`~deepexpo.errors.NoFaceError` when none."""
        ...

    def detect_all(self, image: np.ndarray) -> list[FaceLandmarks]:
        """Every face, left to right (by centre); empty when there is none."""
        ...

    def track(self, image: np.ndarray, previous: FaceLandmarks) -> FaceLandmarks | None:
        """The face near the previous frame's; ``None`` when it is lost."""
        ...

    def close(self) -> None: ...


#: ``factory(tracking, **options)`` by name; a module is imported when its landmarker is first
#: made.
_FACTORIES: dict[str, Callable[..., Landmarker]] = {}
_MODULES = {"mediapipe": "deepexpo.face.mediapipe_landmarker",
            "points": "deepexpo.face.points_landmarker"}
DEFAULT_LANDMARKER = "mediapipe"


def register_landmarker(name: str, factory: Callable[..., Landmarker]) -> None:
    _FACTORIES[name] = factory


def create_landmarker(name: str = DEFAULT_LANDMARKER, tracking: bool = False,
                      **options: Any) -> Landmarker:
    """The landmarker called ``name`` (``tracking``: one that follows a stream of frames);
    ``options`` go to its factory (``points``: the face points it places)."""
    if name not in _FACTORIES and name in _MODULES:
        importlib.import_module(_MODULES[name])
    if name not in _FACTORIES:
        raise ValueError(f"unknown landmarker '{name}' (choose from: "
                         f"{', '.join(sorted({*_FACTORIES, *_MODULES}))})")
    return _FACTORIES[name](tracking, **options)


class LandmarkerPool:
    """Still-image landmarkers, lent one per detection. A landmarker takes one image at a
    time; with ``size`` of them, that many images (a photo and its driver, or several app
    requests) are detected at once, on different cores. Each is made when first needed."""

    def __init__(self, size: int = 2, landmarker: str = DEFAULT_LANDMARKER):
        self.landmarker = landmarker
        self._slots = threading.Semaphore(size)
        self._lock = threading.Lock()
        self._free: list[Landmarker] = []

    @contextmanager
    def lend(self) -> Iterator[Landmarker]:
        with self._slots:
            with self._lock:
                landmarker = self._free.pop() if self._free else None
            landmarker = landmarker or create_landmarker(self.landmarker)
            try:
                yield landmarker
            finally:
                with self._lock:
                    self._free.append(landmarker)
