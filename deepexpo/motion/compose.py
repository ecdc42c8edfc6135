"""Recombination: identity of the source face with expression and/or pose of the driver.

:class:`MotionOptions` means the same in every engine. The head-pose maths is shared here
(:func:`compose_pose`); the expression rule is one line each engine applies to its own
representation: ``source + strength * region_mask * (driver - baseline)``, the baseline being
the reference (relative) or the source itself (absolute), the driver's expression taken in the
source's own measure (:meth:`FaceMotion.own_measure`: a cartoon's large eyes, a snout). On
landmarks, a relative change of the mouth's width is taken against the source mouth's own
(:func:`compose_motion`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..checks import check_number
from ..errors import InputError
from ..face.canonical import canonical_face
from ..face.measure import mouth_width
from ..face.topology import TOPOLOGY
from .mouth import laid_out_as_drivers
from .regions import REGIONS, get_region, landmark_weights
from .rigid import rotation_power
from .state import FaceMotion, HeadPose


@dataclass(frozen=True)
class MotionOptions:
    """How the driver's motion is applied to the source; the same meaning in every engine.

    - ``region``: what is driven. ``all``: expression and head pose; ``expression``: the
      expression only (the source keeps its head rotation, position and size); ``pose``: the
      head rotation, position and size only (the source keeps its expression); ``eyes`` /
      ``lips``: only those parts of the expression.
    - ``relative`` (default): the driver's *change* from a reference (its first video frame,
      or its own face made neutral and frontal for a single image) is applied on top of the
      source's own expression and pose, as FOMM's ``--relative`` and LivePortrait do. The
      rotation change is taken in the head's own frame: ``R = R_source (R_ref^T R_driver)``.
      Absolute: the driver's expression and head rotation as they are; the source keeps its
      position and size (the driver's are in another photo's frame).
    - ``strength``: the fraction of the motion applied, 0 to 2: rotation angles, expression
      offsets and head shift are multiplied by it, the scale change raised to it. 0 leaves
      the source unchanged.
    - ``adapt_scale``: the driver's head shift is scaled by the ratio of face sizes, instead of
      the ratio of image sizes (which keeps the same fraction of the frame).
    """

    region: str = "all"
    relative: bool = True
    strength: float = 1.0
    adapt_scale: bool = False

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise InputError(f"region must be one of {', '.join(REGIONS)}, not {self.region!r}")
        check_number("strength", self.strength, 0.0, 2.0)

    @property
    def drives_pose(self) -> bool:
        return get_region(self.region).drives_pose


#: How wide a relaxed, closed mouth is (its inner corners apart, in the canonical face's units:
#: the outer eye corners one apart): real ones read 0.47 to 0.52 (d0 0.47, d12 0.48, d3 and
#: d19.mp4 0.50, Grace Hopper 0.52). The canonical face's is 0.585, the mean of Hopper's and
#: the smiling astronaut's (0.65).
NEUTRAL_MOUTH_WIDTH = 0.49


def shift_ratio(source: HeadPose, reference: HeadPose, source_size: tuple[int, ...],
                driving_size: tuple[int, ...], options: MotionOptions) -> np.ndarray:
    """(3,) factor from the driver's head shift in pixels to the source's (see
    ``adapt_scale``); image sizes are (height, width)."""
    if options.adapt_scale:
        return np.full(3, source.scale / reference.scale)
    (sh, sw), (dh, dw) = source_size, driving_size
    return np.array([sw / dw, sh / dh, sw / dw])


def compose_pose(source: HeadPose, driving: HeadPose, reference: HeadPose,
                 options: MotionOptions, ratio: np.ndarray) -> HeadPose:
    """The source's head pose moved as :class:`MotionOptions` says; ``ratio`` from
    :func:`shift_ratio`. Rotations are column-vector matrices (``x' = R x``)."""
    if not options.drives_pose:
        return source
    k = options.strength
    if not options.relative:
        turn = rotation_power(source.rotation.T @ driving.rotation, k)
        return HeadPose(source.rotation @ turn, source.translation, source.scale)
    turn = rotation_power(reference.rotation.T @ driving.rotation, k)
    scale = source.scale * (driving.scale / reference.scale) ** k
    shift = k * ratio * (driving.translation - reference.translation)
    return HeadPose(source.rotation @ turn, source.translation + shift, scale)


def neutral_reference(driving: FaceMotion) -> FaceMotion:
    """The driver's own neutral, frontal face: the reference for a single driving image. Its
    features are the canonical face's but for the lips, which are the driver's own in two
    ways, the person's, not how they move:

    - as wide as a relaxed mouth (:data:`NEUTRAL_MOUTH_WIDTH`): against the canonical face's,
      widened by a smile, a driver's mouth read narrowed by a sixth more than it is, and
      every source's with it (the screaming d19's to 0.74 of its width, not 0.88, and its
      opening over the driver's, 0.75 at the cap for 0.67; the pout of d8 narrowed every
      mouth to 0.83 of its width);
    - as full as the driver's (:meth:`CanonicalFace.without_lip_fullness`): measured from the
      canonical face's, d8's full lips (1.36 and 1.2 times as thick over the middle of the
      mouth) swelled s1's upper lip 1.35 times as thick, drawn 1.47 read by MediaPipe, pale,
      its end hooked over the lower lip.

    The reference's ``expression`` holds both, so the change from it has neither."""
    pose = HeadPose(np.eye(3), driving.pose.translation, driving.pose.scale)
    neutral = driving.canonical - driving.expression
    if driving.proportions is not None:  # a face placed by hand is its own neutral
        return FaceMotion(pose, neutral, np.zeros_like(neutral), driving.image_size)
    canon = canonical_face()
    lips = TOPOLOGY.lips
    centre = neutral[canon.mouth_corners, 0].mean()
    relaxed = neutral.copy()
    relaxed[lips, 0] = centre + (neutral[lips, 0] - centre) \
        * (NEUTRAL_MOUTH_WIDTH / mouth_width(neutral))
    fullness = driving.expression \
        - canon.expression(canon.without_lip_fullness(driving.canonical))
    # (the lips narrowed, the skin round them with them; their fullness)
    expression = canon.expression(relaxed) + fullness
    return FaceMotion(pose, neutral + expression, expression, driving.image_size)


def compose_motion(source: FaceMotion, driving: FaceMotion, reference: FaceMotion,
                   options: MotionOptions) -> FaceMotion:
    """The target motion: the source's identity wearing the driver's expression and/or pose."""
    mask = landmark_weights(options.region)
    driven = source.own_measure(driving.expression)
    baseline = source.own_measure(reference.expression) if options.relative \
        else source.expression
    delta = options.strength * mask[:, None] * (driven - baseline)
    if options.relative and source.proportions is None:
        delta = _mouth_width_in_proportion(delta, source, reference)
    ratio = shift_ratio(source.pose, reference.pose, source.image_size, driving.image_size,
                        options)
    pose = compose_pose(source.pose, driving.pose, reference.pose, options, ratio)
    target = FaceMotion(pose, source.canonical + delta, source.expression + delta,
                        source.image_size, source.proportions)
    if source.proportions is None:  # (an animal's or a drawing's mouth is its own)
        target = laid_out_as_drivers(target, source, driving)
    return lips_apart(target, source)


def _mouth_width_in_proportion(delta: np.ndarray, source: FaceMotion,
                               reference: FaceMotion) -> np.ndarray:
    """``delta`` with the mouth's change across the face (its widening, its narrowing) in
    proportion to the source's mouth against the reference's: the mouth follows the driver's
    relative change. In face units, a small mouth narrowed further than the driver's: s7's
    (0.65 of the canonical face's wide) by d19's scream (its mouth 0.74 as wide as its
    reference) to 0.60 of its width, a round opening drawn as a narrow, tall one. (A face
    placed by hand has its whole expression in its own measure already, :meth:`FaceMotion.
    own_measure`; an absolute expression is the driver's own.)"""
    ratio = mouth_width(source.canonical) / max(mouth_width(reference.canonical), 1e-9)
    out = delta.copy()
    out[:, 0] *= 1.0 + canonical_face().feature_masks["lips"] * (ratio - 1.0)
    return out


def lips_apart(motion: FaceMotion, source: FaceMotion) -> FaceMotion:
    """``motion`` with inner lips that would cross brought together instead (no closer than
    in ``source``, whose closed lips may already touch). A relative change can close a mouth
    further than shut: a driver that starts with its mouth open and closes it, on a source
    whose mouth is already closed."""
    canon = canonical_face()
    upper, lower = canon.inner_lip_upper, canon.inner_lip_lower

    def gap(points: np.ndarray) -> np.ndarray:
        return points[lower, 1] - points[upper, 1]  # y points down the face

    floor = np.minimum(gap(source.canonical), 0.0)
    crossed = gap(motion.canonical) < floor
    if not crossed.any():
        return motion
    points = motion.canonical.copy()
    middle = (points[upper[crossed], 1] + points[lower[crossed], 1]) / 2
    points[upper[crossed], 1] = middle - floor[crossed] / 2
    points[lower[crossed], 1] = middle + floor[crossed] / 2
    return replace(motion, canonical=points,
                   expression=motion.expression + (points - motion.canonical))
