"""MediaPipe's landmarker: its face detectors find faces; FaceMesh with iris refinement then
gives 478 points on a square crop around the chosen face. Both models ship inside the
``mediapipe==0.10.21`` wheel, so this works offline. Cropping first matters: FaceMesh's own
detector only sees large faces, and it fits a mesh to anything face-like (a dog, say), whereas
the detectors' scores tell a human face from the rest.

The one place MediaPipe's face models are built; everything else asks
:func:`~deepexpo.face.landmarks.create_landmarker`.
"""

from __future__ import annotations

import logging
import threading

import cv2
import numpy as np

from ..errors import NoFaceError
from .landmarks import FaceBox, FaceLandmarks, register_landmarker
from .mediapipe_solutions import face_detection, face_mesh
from .topology import MEDIAPIPE_478, FaceTopology

logger = logging.getLogger(__name__)


class MediaPipeLandmarker:
    """Detector + FaceMesh. ``tracking=True`` (video) follows the previous frame's face instead of
    detecting afresh, which is faster and steadier."""

    # A face counts when the full-range detector sees it, or the short-range detector does with
    # high confidence (it gives some animal faces about 0.8, human faces 0.86 and up).
    FULL_RANGE_MIN_SCORE = 0.5
    SHORT_RANGE_MIN_SCORE = 0.85
    CROP_SIZE = 320  # pixels of the square crop FaceMesh sees
    CROP_MARGIN = 1.9  # crop side / detected box side
    TRACK_MARGIN = 1.5  # crop side / previous landmarks' box side
    topology: FaceTopology = MEDIAPIPE_478

    def __init__(self, tracking: bool = False):
        self.tracking = tracking
        self._mesh = face_mesh.FaceMesh(
            static_image_mode=not tracking, max_num_faces=1, refine_landmarks=True
        )
        self._detectors = (
            (face_detection.FaceDetection(model_selection=1), self.FULL_RANGE_MIN_SCORE),
            (face_detection.FaceDetection(model_selection=0), self.SHORT_RANGE_MIN_SCORE),
        )
        self._lock = threading.Lock()  # a MediaPipe graph must not run two images at once

    def detect_boxes(self, image: np.ndarray) -> list[FaceBox]:
        """Human faces in an RGB uint8 image, largest first."""
        h, w = image.shape[:2]
        boxes: list[FaceBox] = []
        with self._lock:
            for detector, min_score in self._detectors:
                for det in detector.process(image).detections or []:
                    if det.score[0] < min_score:
                        continue
                    b = det.location_data.relative_bounding_box
                    box = FaceBox(b.xmin * w, b.ymin * h, (b.xmin + b.width) * w,
                               (b.ymin + b.height) * h, float(det.score[0]))
                    if all(box.iou(kept) < 0.3 for kept in boxes):
                        boxes.append(box)
        return sorted(boxes, key=lambda b: b.area, reverse=True)

    def landmarks_in(self, image: np.ndarray, centre: np.ndarray, side: float) -> FaceLandmarks | None:
        """FaceMesh on the square crop of ``side`` pixels around ``centre``."""
        scale = self.CROP_SIZE / side
        to_crop = np.array([[scale, 0.0, self.CROP_SIZE / 2 - scale * centre[0]],
                            [0.0, scale, self.CROP_SIZE / 2 - scale * centre[1]]])
        crop = cv2.warpAffine(image, to_crop, (self.CROP_SIZE, self.CROP_SIZE),
                              flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        with self._lock:
            result = self._mesh.process(crop)
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        if len(lm) != self.topology.num_landmarks:
            return None
        pts = np.array([(p.x, p.y, p.z) for p in lm], dtype=np.float64) * self.CROP_SIZE
        pts[:, :2] = (pts[:, :2] - to_crop[:, 2]) / scale
        pts[:, 2] /= scale
        return FaceLandmarks(pts, (image.shape[0], image.shape[1]))

    def _landmarks_in_box(self, image: np.ndarray, box: FaceBox) -> FaceLandmarks | None:
        return self.landmarks_in(image, box.centre, self.CROP_MARGIN * box.side)

    def detect(self, image: np.ndarray, what: str = "image") -> FaceLandmarks:
        """Landmarks of the largest face; warns when there are several, raises when none."""
        boxes = self.detect_boxes(image)
        if len(boxes) > 1:
            logger.warning("%d faces found in %s; using the largest", len(boxes), what)
        for box in boxes:
            face = self._landmarks_in_box(image, box)
            if face is not None:
                return face
        raise NoFaceError(f"no face found in {what}")

    def detect_all(self, image: np.ndarray) -> list[FaceLandmarks]:
        """Landmarks of every face, left to right (by centre); empty when there is none. A
        mesh that settles on a face already found (from a second box on it) counts once."""
        faces: list[FaceLandmarks] = []
        for box in self.detect_boxes(image):
            face = self._landmarks_in_box(image, box)
            if face is not None and all(face.overlap(found) < 0.5 for found in faces):
                faces.append(face)
        return sorted(faces, key=lambda face: face.centre[0])

    def track(self, image: np.ndarray, previous: FaceLandmarks) -> FaceLandmarks | None:
        """Landmarks near the previous frame's face; ``None`` when the face is lost."""
        return self.landmarks_in(image, previous.centre, self.TRACK_MARGIN * previous.side)

    def close(self) -> None:
        self._mesh.close()
        for detector, _ in self._detectors:
            detector.close()


register_landmarker("mediapipe", lambda tracking: MediaPipeLandmarker(tracking=tracking))
