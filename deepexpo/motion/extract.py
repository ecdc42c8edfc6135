"""Landmarks to motion: a robust rigid fit gives the head pose, the residual is expression
(but for a face placed by hand, whose points describe it at rest in its own proportions)."""

from __future__ import annotations

import numpy as np

from ..face.canonical import canonical_face
from ..face.landmarks import FaceLandmarks
from .proportions import Proportions
from .rigid import robust_fit_similarity
from .state import FaceMotion, HeadPose


def extract_motion(face: FaceLandmarks) -> FaceMotion:
    canon = canonical_face()
    scale, rot, trans = robust_fit_similarity(canon.points, face.points, canon.rigid_weights)
    canonical = (face.points - trans) @ rot / scale
    pose = HeadPose(rotation=rot, translation=trans, scale=scale)
    if face.placed:
        return FaceMotion(pose, canonical, np.zeros_like(canonical), face.image_size,
                          Proportions.measure(canonical))
    return FaceMotion(pose, canonical, canon.expression(canonical), face.image_size)
