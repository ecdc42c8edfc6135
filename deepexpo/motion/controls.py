"""Hand-set dynamic semantics: named controls applied to a face's motion in the canonical frame.

A control is a deformation of the canonical landmarks (expression) or a rotation of the head
(pose), so the result is an ordinary :class:`FaceMotion` that any engine renders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..face.canonical import canonical_face
from .rigid import euler_to_rotation
from .state import FaceMotion, HeadPose

#: How far the jaw drops, in canonical units (outer-eye-corner distances), at ``aaa=1``.
JAW_DROP = 0.2


@dataclass(frozen=True)
class ExpressionControls:
    """``aaa``: mouth opened by dropping the jaw (1 = wide open). ``pitch``/``yaw``/``roll``:
    head rotation in degrees on top of the face's own, about the camera's axes."""

    aaa: float = 0.0
    pitch: float = 0.0
    yaw: float = 0.0
    roll: float = 0.0


def apply_controls(motion: FaceMotion, controls: ExpressionControls) -> FaceMotion:
    """``motion`` with the controls' deformations added to its expression and its head turned."""
    canon = canonical_face()
    lower_lip = np.zeros(len(motion.shape))
    lower_lip[canon.lower_lip] = 1.0
    delta = np.zeros_like(motion.shape)
    delta[:, 1] = controls.aaa * JAW_DROP * np.maximum(canon.jaw_weights, lower_lip)
    turn = euler_to_rotation(controls.pitch, controls.yaw, controls.roll)
    pose = HeadPose(turn @ motion.pose.rotation, motion.pose.translation, motion.pose.scale)
    return FaceMotion(pose, motion.shape + delta, motion.expression + delta, motion.image_size)
