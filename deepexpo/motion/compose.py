"""Recombination: identity of the source face with expression and/or pose of the driver."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..face.canonical import REGIONS, canonical_face
from .rigid import rotation_power
from .state import FaceMotion, HeadPose


@dataclass(frozen=True)
class MotionOptions:
    """How the driver's motion is applied to the source.

    ``relative`` (default) applies the driver's change relative to a reference (its first video
    frame, or a neutral frontal face for a single image), as FOMM's ``--relative`` and
    LivePortrait do; absolute mode applies the driver's expression and head rotation as they are.
    ``adapt_scale`` scales the driver's head translation by the ratio of face sizes instead of
    the ratio of image sizes. ``strength`` multiplies the motion.
    """

    region: str = "all"
    relative: bool = True
    strength: float = 1.0
    adapt_scale: bool = False

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise InputError(f"region must be one of {', '.join(REGIONS)}, not {self.region!r}")
        if not 0.0 <= self.strength <= 2.0:
            raise InputError(f"strength must be between 0 and 2, not {self.strength}")


def neutral_reference(driving: FaceMotion) -> FaceMotion:
    """The driver's own neutral, frontal face: the reference for a single driving image."""
    pose = HeadPose(np.eye(3), driving.pose.translation, driving.pose.scale)
    neutral = driving.canonical - driving.expression
    return FaceMotion(pose, neutral, np.zeros_like(neutral), driving.image_size)


def compose_motion(
    source: FaceMotion, driving: FaceMotion, reference: FaceMotion, options: MotionOptions
) -> FaceMotion:
    """The target motion: the source's identity wearing the driver's expression and/or pose."""
    k = options.strength
    mask = canonical_face().masks[options.region]
    baseline = reference.expression if options.relative else source.expression
    delta = k * mask[:, None] * (driving.expression - baseline)
    canonical = source.canonical + delta
    pose = source.pose
    if options.region in ("all", "pose"):
        pose = _compose_pose(source, driving, reference, options)
    return FaceMotion(pose, canonical, source.expression + delta, source.image_size)


def _compose_pose(
    source: FaceMotion, driving: FaceMotion, reference: FaceMotion, options: MotionOptions
) -> HeadPose:
    k = options.strength
    src, drv, ref = source.pose, driving.pose, reference.pose
    if not options.relative:
        turn = rotation_power(drv.rotation @ src.rotation.T, k)
        return HeadPose(turn @ src.rotation, src.translation, src.scale)
    turn = rotation_power(drv.rotation @ ref.rotation.T, k)
    scale = src.scale * (drv.scale / ref.scale) ** k
    if options.adapt_scale:
        ratio = np.full(3, src.scale / ref.scale)
    else:
        (sh, sw), (dh, dw) = source.image_size, driving.image_size
        ratio = np.array([sw / dw, sh / dh, sw / dw])
    shift = k * ratio * (drv.translation - ref.translation)
    return HeadPose(turn @ src.rotation, src.translation + shift, scale)
