"""The maths of pose and expression, checked on exact inputs."""

from __future__ import annotations

import numpy as np
import pytest

from deepexpo.config import WARP
from deepexpo.face.canonical import canonical_face
from deepexpo.face.measure import mouth_opening, mouth_width
from deepexpo.face.topology import TOPOLOGY
from deepexpo.geometry.filters import OneEuroFilter
from deepexpo.motion.compose import (
    NEUTRAL_MOUTH_WIDTH,
    MotionOptions,
    compose_motion,
    neutral_reference,
)
from deepexpo.motion.controls import ExpressionControls, apply_controls
from deepexpo.motion.extract import extract_motion
from deepexpo.motion.eyelids import eyelids, follow_closure
from deepexpo.motion.rigid import (
    euler_to_rotation,
    fit_similarity,
    robust_fit_similarity,
    rotation_power,
    rotation_to_euler,
)
from deepexpo.motion.state import HeadPose
from deepexpo.render.mesh_warp import _delaunay


def test_euler_round_trip():
    for angles in [(10, -20, 5), (-30, 40, -15), (0, 0, 0)]:
        assert rotation_to_euler(euler_to_rotation(*angles)) == pytest.approx(angles, abs=1e-9)


def test_rotation_power_scales_the_angle():
    rot = euler_to_rotation(0, 30, 0)
    assert rotation_to_euler(rotation_power(rot, 0.5))[1] == pytest.approx(15)
    assert np.allclose(rotation_power(rot, 0.0), np.eye(3))


def test_lifted_image_points_lie_at_the_depth_and_project_back():
    pose = HeadPose(euler_to_rotation(20, -15, 5), np.array([300.0, 200.0, 4.0]), 150.0)
    canonical = np.c_[np.random.default_rng(3).uniform(-1, 1, (10, 2)), np.full(10, 0.3)]
    np.testing.assert_allclose(pose.lift(pose.apply(canonical)[:, :2], 0.3), canonical,
                               atol=1e-12)


def test_similarity_fit_recovers_a_pose_despite_outliers():
    rng = np.random.default_rng(0)
    canon = canonical_face().points
    rot = euler_to_rotation(8, -25, 4)
    observed = 150 * canon @ rot.T + np.array([300, 200, 10])
    observed[:20] += rng.normal(0, 40, (20, 3))  # a few wild landmarks
    s, r, t = robust_fit_similarity(canon, observed, np.ones(len(canon)))
    assert s == pytest.approx(150, rel=0.02)
    assert rotation_to_euler(r) == pytest.approx((8, -25, 4), abs=1.0)
    s2, r2, _ = fit_similarity(canon, 150 * canon @ rot.T)
    assert s2 == pytest.approx(150) and np.allclose(r2, rot)


def test_canonical_face_is_neutral_frontal_and_symmetric():
    face = canonical_face()
    assert np.allclose(face.expression(face.points), 0.0, atol=1e-9)
    mirrored = face.points[face.mirror] * np.array([-1.0, 1.0, 1.0])
    assert np.allclose(mirrored, face.points, atol=1e-6)
    assert face.facing(face.points)[[1, 4, 168]].min() > 0.8  # the nose faces the camera


def _motion_of(points):
    from deepexpo.face.landmarks import FaceLandmarks

    return extract_motion(FaceLandmarks(points, (512, 512)))


def test_identity_motion_reproduces_the_source_landmarks():
    canon = canonical_face()
    src = _motion_of(120 * canon.points @ euler_to_rotation(5, 10, 0).T + [256, 256, 0])
    out = compose_motion(src, src, src, MotionOptions())
    assert np.allclose(out.landmarks(), src.landmarks(), atol=1e-6)


def test_relative_motion_turns_by_the_driver_change_and_keeps_identity():
    canon = canonical_face()
    base = 100 * canon.points + [256, 256, 0]
    src = _motion_of(140 * canon.points @ euler_to_rotation(0, -10, 0).T + [250, 240, 0])
    ref = _motion_of(base)
    turned = _motion_of(100 * canon.points @ euler_to_rotation(0, 20, 0).T + [256, 256, 0])
    out = compose_motion(src, turned, ref, MotionOptions())
    assert out.pose.euler[1] == pytest.approx(10, abs=0.5)
    assert np.allclose(out.canonical, src.canonical)  # no expression change: identity shape kept
    pose_only = compose_motion(src, turned, ref, MotionOptions(region="expression"))
    assert pose_only.pose.euler[1] == pytest.approx(src.pose.euler[1])


def test_neutral_reference_is_frontal_and_expressionless():
    """Frontal, its eyes and brows at rest, its mouth closed and as wide as a relaxed one (the
    canonical face's is widened by a smile)."""
    canon = canonical_face()
    drv = _motion_of(100 * canon.points @ euler_to_rotation(3, 15, 2).T + [256, 256, 0])
    ref = neutral_reference(drv)
    assert np.allclose(ref.pose.rotation, np.eye(3))
    assert np.allclose(ref.expression[np.r_[TOPOLOGY.eyes, TOPOLOGY.brows]], 0.0)
    assert mouth_width(ref.canonical) == pytest.approx(NEUTRAL_MOUTH_WIDTH)
    assert abs(mouth_opening(ref.canonical)) < 0.01


def test_a_still_drivers_full_lips_are_its_own_not_its_expression():
    """A single photo whose lips are fuller all along than the canonical face's (1.4 times,
    away from the line between its corners) leaves the source's lips as thick (within 3%):
    its reference has its lips. Read as expression, the fullness was added to the source's
    lips (1.18 and 1.58 times as thick). Lips thinner than the canonical face's are taken as
    stretched, and thin them."""
    canon = canonical_face()
    p = canon.points
    lips = np.setdiff1d(np.r_[canon.lip_bands[0], canon.lip_bands[1], canon.upper_outer_lip,
                              canon.lower_lip],
                        np.r_[canon.inner_lip_upper, canon.inner_lip_lower,
                              canon.mouth_corners, canon.outer_mouth_corners])
    corners_y = p[canon.mouth_corners, 1].mean()

    def thickness(points):  # upper and lower lip, over the middle of the mouth
        return [np.linalg.norm(points[outer, :2] - points[inner, :2], axis=1).mean()
                for outer, inner in (([37, 0, 267], [82, 13, 312]),
                                     ([84, 17, 314], [87, 14, 317]))]

    src = _motion_of(120 * p + [256, 256, 0])
    for fullness in (1.4, 0.8):
        shape = p.copy()
        shape[lips, 1] = corners_y + fullness * (p[lips, 1] - corners_y)
        drv = _motion_of(100 * shape + [256, 256, 0])
        out = compose_motion(src, drv, neutral_reference(drv), MotionOptions())
        ratio = np.divide(thickness(out.canonical), thickness(src.canonical))
        if fullness > 1:
            assert np.allclose(ratio, 1.0, atol=0.03), ratio
        else:
            assert (ratio < 0.95).all(), ratio


def test_one_euro_filter_removes_jitter_but_follows_a_step():
    rng = np.random.default_rng(1)
    f = OneEuroFilter(fps=30)
    noisy = [f(np.array([100.0 + rng.normal(0, 1.0)])) for _ in range(60)]
    assert np.std(noisy[20:]) < 0.5
    for _ in range(30):
        stepped = f(np.array([150.0]))
    assert stepped[0] == pytest.approx(150.0, abs=1.0)


def test_motion_options_are_validated():
    with pytest.raises(ValueError, match="region"):
        MotionOptions(region="nose")
    with pytest.raises(ValueError, match="strength"):
        MotionOptions(strength=-1)


def test_controls_open_the_mouth_and_turn_the_head():
    canon = canonical_face()
    src = _motion_of(120 * canon.points + [256, 256, 0])
    unchanged = apply_controls(src, ExpressionControls())
    assert np.allclose(unchanged.landmarks(), src.landmarks())
    moved = apply_controls(src, ExpressionControls(aaa=1.0, yaw=15.0))
    assert mouth_opening(moved.landmarks()) > mouth_opening(src.landmarks()) + 0.2
    assert moved.pose.euler[1] == pytest.approx(src.pose.euler[1] + 15.0, abs=0.5)
    above_lips = canon.points[:, 1] < canon.points[canon.upper_outer_lip, 1].min()
    assert np.allclose(moved.expression[above_lips], src.expression[above_lips])


def test_a_closed_mouth_told_to_close_further_does_not_cross_its_lips(landmarker, hopper):
    """A driver that starts open-mouthed and closes, on a closed-mouthed source: the lips meet
    instead of passing through each other (which would read as an open mouth)."""
    source = extract_motion(landmarker.detect(hopper))
    opened = apply_controls(source, ExpressionControls(aaa=0.8))
    target = compose_motion(source, source, opened, MotionOptions())  # the driver closes
    canon = canonical_face()

    def gap(points: np.ndarray) -> np.ndarray:
        return points[canon.inner_lip_lower, 1] - points[canon.inner_lip_upper, 1]

    assert np.all(gap(target.canonical) >= np.minimum(gap(source.canonical), 0) - 1e-9)
    assert mouth_opening(target.canonical) < mouth_opening(source.canonical) + 0.01


def test_a_driver_shutting_a_wider_eye_than_the_sources_shuts_it_without_crossing_the_lids():
    """Relative mode adds the driver's lid motion to the source's eye; from a wide-open
    reference it can take the upper lid of a narrower eye through the lower one, a fold that
    reads as an open eye. The lid ends just above the lower one instead, everywhere."""
    base = _motion_of(120 * canonical_face().points + [256, 256, 0])
    source = apply_controls(base, ExpressionControls(blink=0.5))
    reference = apply_controls(base, ExpressionControls(blink=-0.5))
    driver = apply_controls(base, ExpressionControls(blink=1.0))
    composed = compose_motion(source, driver, reference, MotionOptions())
    assert min(lid.gaps(composed.canonical).min() for lid in eyelids()) < 0  # crossed

    shut = follow_closure(composed, source, driver, reference, MotionOptions(),
                          WARP.eye_shut_fraction)

    for lid in eyelids():
        gaps = lid.gaps(shut.canonical)
        assert gaps.min() > 0
        assert gaps.max() < 0.1 * lid.gaps(base.canonical).max()


def test_a_dropped_jaw_folds_no_part_of_the_face():
    """The mouth control moves the skin below the lower lip at least as far as the lip: a
    chin that lagged behind would fold the lip into it (the warp draws one over the other)."""
    canon = canonical_face()
    src = _motion_of(120 * canon.points + [256, 256, 0])

    triangles = _delaunay(src.landmarks()[:, :2])  # the warp's mesh, less the mouth's
    # opening (triangles on the inner lips, which cross on a closed mouth; the mouth is
    # painted over there)
    inner = np.r_[canon.inner_lip_upper, canon.inner_lip_lower]
    triangles = triangles[~np.isin(triangles, inner).any(axis=1)]

    def orientation(points: np.ndarray) -> np.ndarray:
        a, b, c = (points[triangles[:, k], :2] for k in range(3))
        return np.sign(np.cross(b - a, c - a))

    for controls in (ExpressionControls(aaa=0.5), ExpressionControls(aaa=1.0)):
        opened = apply_controls(src, controls)
        assert (orientation(opened.landmarks()) == orientation(src.landmarks())).all()
