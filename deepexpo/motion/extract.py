"""Landmarks to motion: a robust rigid fit gives the head pose, the residual is expression."""

from __future__ import annotations

from ..face.canonical import canonical_face
from ..face.landmarks import FaceLandmarks
from .rigid import robust_fit_similarity
from .state import FaceMotion, HeadPose


def extract_motion(face: FaceLandmarks) -> FaceMotion:
    canon = canonical_face()
    scale, rot, trans = robust_fit_similarity(canon.points, face.points, canon.rigid_weights)
    canonical = (face.points - trans) @ rot / scale
    return FaceMotion(
        pose=HeadPose(rotation=rot, translation=trans, scale=scale),
        canonical=canonical,
        expression=canon.expression(canonical),
        image_size=face.image_size,
    )
