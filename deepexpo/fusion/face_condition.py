"""The conditioning image of the MediaPipe-face ControlNet (``CrucibleAI/ControlNetMediaPipeFace``),
drawn from our landmarks exactly as that model's training annotator drew it: on black, the face
oval, eyes, brows and lips as 2-pixel lines in fixed colours, and the pupils as 4x4 squares."""

from __future__ import annotations

import cv2
import numpy as np

from ..face.mediapipe_solutions import face_mesh_connections as mesh
from ..face.topology import TOPOLOGY

# RGB colours (the annotator wrote these as BGR tuples and flipped the canvas to RGB at the end).
_FEATURES = (
    (mesh.FACEMESH_FACE_OVAL, (10, 200, 10)),
    (mesh.FACEMESH_LIPS, (10, 180, 10)),
    (mesh.FACEMESH_LEFT_EYE, (10, 200, 180)),
    (mesh.FACEMESH_LEFT_EYEBROW, (10, 220, 180)),
    (mesh.FACEMESH_RIGHT_EYE, (180, 200, 10)),
    (mesh.FACEMESH_RIGHT_EYEBROW, (180, 220, 10)),
)
_PUPILS = ((TOPOLOGY.right_iris_center, (250, 200, 10)), (TOPOLOGY.left_iris_center, (10, 200, 250)))
MIN_FACE_PX = 64  # smaller faces were left out of the training annotations


def draw_face_condition(size: tuple[int, int], faces: list[np.ndarray]) -> np.ndarray:
    """(H, W, 3) uint8 conditioning image for faces given as (478, 2+) pixel landmarks."""
    h, w = size
    canvas = np.zeros((h, w, 3), np.uint8)
    for xy in faces:
        if max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1])) < MIN_FACE_PX:
            continue
        pts = np.round(xy[:, :2]).astype(np.int32)
        for edges, colour in _FEATURES:
            for a, b in edges:
                cv2.line(canvas, tuple(pts[a]), tuple(pts[b]), colour, 2)
        for index, colour in _PUPILS:
            x, y = pts[index]
            canvas[max(0, y - 2):y + 2, max(0, x - 2):x + 2] = colour
    return canvas
