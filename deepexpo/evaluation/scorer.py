"""A face scorer independent of the engines' own landmarks: dlib's HOG face detector, its
68-point landmarks and its 128-d face-recognition embedding (weights inside the ``dlib-bin`` and
``face-recognition-models`` wheels), so results are not graded with our own ruler."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import cv2
import numpy as np

from ..errors import DeepExPoError

INSTALL_HINT = "pip install -r requirements-eval.txt"
#: Where the head pose is read from: the 68-point indices that move least with expression
#: (nose bridge and tip, nostrils, eye corners; for the yaw also the outline at the temples),
#: and a generic head at them: MediaPipe's canonical face in outer-eye-corner distances x 100,
#: in the camera's axes (x right, y down, z away from the camera, so a frontal face has no
#: rotation), its depth halved (dlib's 2D points move across a turning face as a flatter head's
#: do: at full depth the fit read d3's 38-degree turn as 16). The mouth corners and the chin are
#: no rigid points: a six-point fit on them read a screaming driver's lopsided mouth (d19) as a
#: 20-degree turn (9 now; MediaPipe's landmarks: 5).
_HEAD_3D = {
    0: (-77.6, -31.0, 31.4), 1: (-77.0, -16.3, 34.7), 15: (77.0, -16.3, 34.7),
    16: (77.6, -31.0, 31.4), 27: (0.0, -37.0, -8.8), 28: (0.0, -20.4, -13.4),
    29: (0.0, -4.5, -19.0), 30: (0.0, 5.4, -20.0), 31: (-16.7, 12.0, -7.6),
    32: (-10.0, 15.9, -8.4), 33: (0.0, 17.1, -9.4), 34: (10.0, 15.9, -8.4),
    35: (16.7, 12.0, -7.6), 36: (-50.0, -34.4, 3.8), 39: (-19.1, -32.2, 1.0),
    42: (19.1, -32.2, 1.0), 45: (50.0, -34.4, 3.8)}
#: The yaw and roll are read with the outline at the temples (it widens the fit's base: without
#: it dlib's nose points, dragged by a lopsided mouth, turn the head); the pitch without (where
#: the outline lies on a nodding head is no rigid point).
_TURN_POINTS = tuple(_HEAD_3D)
_NOD_POINTS = tuple(i for i in _HEAD_3D if i > 16)
#: Points that move little with expression: what pose is read from before comparing shapes.
_RIGID = np.r_[27:36, 36, 39, 42, 45]


_EYES = (np.arange(36, 42), np.arange(42, 48))  # each eye's six points, corners first and fourth
#: dlib's shape predictor puts its points on whole pixels: on the astronaut's 8-px lips one
#: pixel is an eighth of their thickness, and her lips read 0.90 and 0.79 of the source's in two
#: renders whose mouths were byte-identical. Faces narrower than this (pixels, dlib's face box)
#: are read on their box upscaled to it, the points falling on a fraction of a pixel (0.88 both).
FINE_FACE_WIDTH = 400


def _iris_offset(gray: np.ndarray, eye: np.ndarray) -> float:
    """Where the iris sits between the eye's corners, from the pixels: the centroid of the
    darkest third of the eye opening, relative to the corners' midpoint, in eye widths (positive
    towards image right). NaN for an eye too closed to show its iris."""
    corner_a, corner_b = eye[0], eye[3]
    width = float(np.linalg.norm(corner_b - corner_a))
    if width < 4 or np.linalg.norm(eye[[1, 2]].mean(0) - eye[[5, 4]].mean(0)) < 0.12 * width:
        return float("nan")
    x0, y0 = np.floor(eye.min(0)).astype(int)
    x1, y1 = np.ceil(eye.max(0)).astype(int) + 1
    patch = gray[max(y0, 0):y1, max(x0, 0):x1].astype(np.float64)
    mask = np.zeros(patch.shape, np.uint8)
    cv2.fillPoly(mask, [np.round(eye - [max(x0, 0), max(y0, 0)]).astype(np.int32)], 1)
    values = patch[mask > 0]
    if values.size < 6:
        return float("nan")
    dark = (patch <= np.percentile(values, 33)) & (mask > 0)
    xs = np.nonzero(dark)[1] + max(x0, 0)
    return float((xs.mean() - (corner_a[0] + corner_b[0]) / 2) / width)


@dataclass(frozen=True)
class ScoredFace:
    points: np.ndarray  # (68, 2) pixels
    embedding: np.ndarray  # (128,)
    image_size: tuple[int, int]  # (height, width)
    gaze: float = float("nan")  # mean iris offset of both eyes (see _iris_offset)

    @cached_property
    def interocular(self) -> float:
        return float(np.linalg.norm(self.points[36:42].mean(0) - self.points[42:48].mean(0)))

    @cached_property
    def pose(self) -> np.ndarray:
        """(yaw, pitch, roll) in degrees, from a generic head fitted to the landmarks that move
        least with expression (:data:`_HEAD_3D`)."""
        yaw, _, roll = self._fit(_TURN_POINTS)
        return np.array([yaw, self._fit(_NOD_POINTS)[1], roll])

    def _fit(self, indices: tuple[int, ...]) -> tuple[float, float, float]:
        """(yaw, pitch, roll) of the generic head fitted to ``indices`` (a perspective fit)."""
        h, w = self.image_size
        camera = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], float)
        model = np.array([_HEAD_3D[i] for i in indices])
        image_points = self.points[list(indices)].astype(float)
        # Started from a frontal head at the distance its eye width implies: unguided, the
        # fit can flip to a mirror solution (pitch +20 instead of -7) on some frames.
        depth = w * (_HEAD_3D[45][0] - _HEAD_3D[36][0]) \
            / (np.linalg.norm(self.points[45] - self.points[36]) + 1e-9)
        centre = image_points.mean(axis=0)
        tvec = np.array([(centre[0] - w / 2) * depth / w, (centre[1] - h / 2) * depth / w,
                         depth]) - model.mean(axis=0)
        _, rvec, _ = cv2.solvePnP(model, image_points, camera, None, np.zeros(3), tvec,
                                  useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
        rot = cv2.Rodrigues(rvec)[0]
        pitch = np.degrees(np.arctan2(rot[2, 1], rot[2, 2]))
        yaw = np.degrees(np.arcsin(-np.clip(rot[2, 0], -1, 1)))
        roll = np.degrees(np.arctan2(rot[1, 0], rot[0, 0]))
        return float(yaw), float(pitch), float(roll)

    @property
    def mouth_opening(self) -> float:
        """Inner-lip gap over mouth width."""
        gap = np.linalg.norm(self.points[[61, 62, 63]] - self.points[[67, 66, 65]], axis=1).mean()
        return float(gap / (np.linalg.norm(self.points[48] - self.points[54]) + 1e-9))

    @property
    def eye_openness(self) -> float:
        """Mean eye aspect ratio of both eyes (lid gap over eye width; about 0.3 open, under
        0.1 closed)."""
        ratios = [(np.linalg.norm(e[1] - e[5]) + np.linalg.norm(e[2] - e[4]))
                  / (2 * np.linalg.norm(e[0] - e[3]) + 1e-9)
                  for e in (self.points[i] for i in _EYES)]
        return float(np.mean(ratios))

    def aligned_to(self, other: ScoredFace) -> np.ndarray:
        """These landmarks moved onto ``other``'s by the similarity that best matches their
        rigid points: what is left differs by expression, not by head pose or size."""
        src, dst = self.points[_RIGID], other.points[_RIGID]
        matrix, _ = cv2.estimateAffinePartial2D(src.astype(np.float32), dst.astype(np.float32))
        return self.points @ matrix[:, :2].T + matrix[:, 2]


class DlibScorer:
    def __init__(self) -> None:
        try:
            import dlib
            with warnings.catch_warnings():  # it imports pkg_resources
                warnings.simplefilter("ignore")
                import face_recognition_models as models
        except ImportError as exc:
            raise DeepExPoError(f"evaluation needs dlib and its models: {INSTALL_HINT}") from exc
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(models.pose_predictor_model_location())
        self._encoder = dlib.face_recognition_model_v1(models.face_recognition_model_location())

    def face(self, image: np.ndarray) -> ScoredFace | None:
        """The largest face's landmarks and embedding, or ``None``. Small images are
        upsampled once, so faces down to about 40 px are found."""
        rects = self._detector(image, 1 if min(image.shape[:2]) < 400 else 0)
        if not rects:
            return None
        rect = max(rects, key=lambda r: r.width() * r.height())
        shape = self._predictor(image, rect)
        points = self._fine_points(image, rect, shape)
        embedding = np.array(self._encoder.compute_face_descriptor(image, shape))
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        offsets = [o for o in (_iris_offset(gray, points[i]) for i in _EYES) if np.isfinite(o)]
        gaze = float(np.mean(offsets)) if offsets else float("nan")
        return ScoredFace(points, embedding, (image.shape[0], image.shape[1]), gaze)

    def _fine_points(self, image: np.ndarray, rect: Any, shape: Any) -> np.ndarray:
        """The 68 points in ``rect`` to a fraction of a pixel (``shape``: as read on whole
        pixels): read on the box (and half its width around it) upscaled to
        :data:`FINE_FACE_WIDTH`."""
        import dlib
        scale = FINE_FACE_WIDTH / max(rect.width(), 1)
        if scale <= 1:
            return np.array([[p.x, p.y] for p in shape.parts()], float)
        margin = rect.width() // 2
        x0, y0 = max(rect.left() - margin, 0), max(rect.top() - margin, 0)
        crop = image[y0:rect.bottom() + margin + 1, x0:rect.right() + margin + 1]
        big = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        # Pixel centres: x in the crop lies at (x + 0.5) * scale - 0.5 in ``big``.
        box = dlib.rectangle(*(round((v + 0.5) * scale - 0.5) for v in (
            rect.left() - x0, rect.top() - y0, rect.right() - x0, rect.bottom() - y0)))
        parts = self._predictor(big, box).parts()
        return (np.array([[p.x, p.y] for p in parts], float) + 0.5) / scale - 0.5 + [x0, y0]


@cache
def shared_scorer() -> DlibScorer:
    """One scorer per process: a worker loads dlib's models once for all the tasks it runs."""
    return DlibScorer()
