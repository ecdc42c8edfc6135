"""One conformance suite for every engine: :class:`MotionOptions` means the same in each.

The warp engine is measured on its rendered pixels with our landmarks where the option is about
what a viewer sees (head pose kept, expression kept), and on its target motion where exactness
is the point. The neural engine runs tiny random networks, whose pixels mean nothing, so it is
measured on the keypoint target it drives the networks to, read back as a head pose (rotation,
position and size in the source photo) and expression deltas. Select with ``-k conformance``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from deepexpo.engines import TransferEngine
from deepexpo.engines.neural_engine import NeuralEngine
from deepexpo.engines.warp_engine import WarpEngine
from deepexpo.face.measure import eye_ratios, mouth_opening
from deepexpo.face.mediapipe_landmarker import MediaPipeLandmarker
from deepexpo.face.topology import TOPOLOGY
from deepexpo.geometry.boxes import PixelBox
from deepexpo.motion.compose import MotionOptions
from deepexpo.motion.extract import extract_motion
from deepexpo.motion.eyelids import eyelids
from deepexpo.motion.rigid import rotation_angle
from deepexpo.motion.state import HeadPose
from deepexpo.neural.keypoints import EYE_ROWS, LIP_ROWS, expression_mask
from deepexpo.pipeline import TransferPipeline
from deepexpo.testing.tiny_liveportrait import tiny_networks

from .conftest import read_frames


@dataclass(frozen=True)
class Observed:
    """What an engine made of a request: the head pose in the source photo (column-vector
    rotation, pixels), the expression in the engine's own representation, and for rendered
    pixels the mouth and eye openings our landmarks measure."""

    pose: HeadPose
    expression: np.ndarray
    mouth: float | None = None
    eyes: tuple[float, float] | None = None


@dataclass
class Case:
    engine: TransferEngine
    observe: Callable[..., Observed]  # (case, source, driving, reference, options, rendered)
    view: Callable[[Case, Any], Observed]  # a prepared source or driving face as it is
    untouched: Callable[[str], np.ndarray]  # expression entries a region must leave alone
    degrees: float  # how close two poses must be to count as the same
    pixels: float
    landmarker: MediaPipeLandmarker


def _warp_target(case, source, driving, reference, options, rendered: bool) -> Observed:
    if rendered:
        out = case.engine.render(source, driving, reference, options)
        face = case.landmarker.detect(out)
        motion = extract_motion(face)
        return Observed(motion.pose, motion.expression, mouth_opening(face.points),
                        eye_ratios(face.xy))
    target = case.engine.target(source, driving, reference, options)
    return Observed(target.pose, target.expression)


def _warp_view(case, face) -> Observed:
    return Observed(face.motion.pose, face.motion.expression, mouth_opening(face.points),
                    eye_ratios(face.xy))


def _warp_untouched(region: str) -> np.ndarray:
    """Landmarks the other part owns: the eyes for ``lips``, the lips for ``eyes``."""
    return TOPOLOGY.eyes if region == "lips" else TOPOLOGY.lips


def _neural_target(case, source, driving, reference, options, rendered: bool) -> Observed:
    target = case.engine.target(source, [driving], reference, options)
    crop, placement = source.crop, source.placement
    moved = (target.t - source.motion.t)[0, :2].double().numpy() * crop.side / 2
    translation = placement.translation.copy()
    translation[:2] += moved[0] * crop.ux + moved[1] * crop.uy
    scale = placement.scale * float(target.scale[0, 0] / source.motion.scale[0, 0])
    rotation = target.rotation[0].double().numpy().T
    return Observed(HeadPose(rotation, translation, scale), target.exp[0].double().numpy())


def _neural_view(case, face) -> Observed:
    return Observed(face.pose, face.motion.exp[0].double().numpy())


def _neural_untouched(region: str) -> np.ndarray:
    """Keypoint rows outside the region's."""
    return np.setdiff1d(np.arange(21), LIP_ROWS if region == "lips" else EYE_ROWS)


@pytest.fixture(scope="module", params=["warp", "neural"])
def case(request, landmarker) -> Case:
    if request.param == "warp":
        return Case(WarpEngine(), _warp_target, _warp_view, _warp_untouched, degrees=1.5,
                    pixels=3.0, landmarker=landmarker)
    # The neural keypoint maths runs in float32: the same rotation reached by two routes
    # differs by up to a few thousandths of a degree, depending on the pose.
    return Case(NeuralEngine(networks=tiny_networks()), _neural_target, _neural_view,
                _neural_untouched, degrees=1e-2, pixels=1e-3, landmarker=landmarker)


@pytest.fixture(scope="module")
def faces(case, landmarker, hopper, astronaut, open_mouth_driver, turned_driver):
    """The source (Hopper) and drivers, prepared by the engine under test: ``calm`` is the
    open-mouthed driver's own calm face, its reference; ``turned`` is the astronaut turned,
    with the astronaut as its reference."""
    engine = case.engine
    calm = np.ascontiguousarray(hopper[:, ::-1])
    return {
        "source": engine.prepare_source(hopper, landmarker.detect(hopper)),
        "calm": engine.extract(calm, landmarker.detect(calm)),
        "open": engine.extract(open_mouth_driver, landmarker.detect(open_mouth_driver)),
        "astronaut": engine.extract(astronaut, landmarker.detect(astronaut)),
        "turned": engine.extract(turned_driver, landmarker.detect(turned_driver)),
    }


def _turn(a: HeadPose, b: HeadPose) -> float:
    return float(np.degrees(rotation_angle(a.rotation.T @ b.rotation)))


def _assert_same_pose(a: HeadPose, b: HeadPose, case: Case) -> None:
    assert _turn(a, b) < case.degrees
    assert np.abs(a.translation[:2] - b.translation[:2]).max() < case.pixels
    assert abs(a.scale / b.scale - 1) < case.pixels / 100


def test_conformance_strength_zero_leaves_the_source_unchanged(case, faces, hopper):
    options = MotionOptions(strength=0.0)
    out = case.engine.render(faces["source"], faces["turned"], faces["astronaut"], options)
    if isinstance(case.engine, WarpEngine):
        assert np.array_equal(out, hopper)
    seen = case.observe(case, faces["source"], faces["turned"], faces["astronaut"], options, False)
    source = case.view(case, faces["source"])
    _assert_same_pose(seen.pose, source.pose, case)
    assert np.allclose(seen.expression, source.expression, atol=1e-6)


def test_conformance_expression_region_keeps_the_source_pose(case, faces):
    source = case.view(case, faces["source"])
    args = (faces["source"], faces["turned"], faces["astronaut"])
    kept = case.observe(case, *args, MotionOptions(region="expression"), True)
    moved = case.observe(case, *args, MotionOptions(), True)
    _assert_same_pose(kept.pose, source.pose, case)
    assert _turn(moved.pose, source.pose) > 2 * case.degrees  # the driver does turn


def test_conformance_pose_region_keeps_the_source_expression(case, faces):
    source = case.view(case, faces["source"])
    args = (faces["source"], faces["open"], faces["calm"])
    kept = case.observe(case, *args, MotionOptions(region="pose"), True)
    driven = case.observe(case, *args, MotionOptions(), True)
    if source.mouth is not None and kept.mouth is not None:  # measured on pixels
        assert abs(kept.mouth - source.mouth) < 0.03
        assert driven.mouth > source.mouth + 0.1
    else:
        assert np.allclose(kept.expression, source.expression, atol=1e-6)
        assert not np.allclose(driven.expression, source.expression, atol=1e-3)


def test_conformance_eyes_and_lips_regions_touch_only_their_parts(case, faces):
    source = case.view(case, faces["source"])
    args = (faces["source"], faces["open"], faces["calm"])
    for region in ("lips", "eyes"):
        seen = case.observe(case, *args, MotionOptions(region=region), False)
        _assert_same_pose(seen.pose, source.pose, case)
        changed = np.abs(seen.expression - source.expression).max(axis=1)
        assert changed.max() > 1e-3  # the region moves ...
        assert changed[case.untouched(region)].max() < 1e-3  # ... and only the region
    if isinstance(case.engine, WarpEngine):  # and as a viewer sees it
        lips = case.observe(case, *args, MotionOptions(region="lips"), True)
        assert lips.mouth > source.mouth + 0.1
        # The eyes' own pixels, not their openness read by MediaPipe: its fit of the whole
        # face moves its eye points with the mouth (Hopper's eye read 0.28 -> 0.32 open with
        # every pixel round it the same).
        image = faces["source"].image
        out = case.engine.render(*args, MotionOptions(region="lips"))
        for lid in eyelids():
            eye = PixelBox.around(faces["source"].xy[lid.outline], image.shape[:2], 8).slices
            assert np.abs(out[eye].astype(int) - image[eye]).max() <= 2


def test_conformance_relative_and_absolute(case, faces):
    source = case.view(case, faces["source"])
    # Relative: a driver that has not moved from its reference leaves the source as it is.
    still = case.observe(case, faces["source"], faces["open"], faces["open"], MotionOptions(),
                         False)
    _assert_same_pose(still.pose, source.pose, case)
    assert np.allclose(still.expression, source.expression, atol=1e-6)
    # Absolute: the driver's rotation and expression as they are; the source's placement.
    absolute = case.observe(case, faces["source"], faces["turned"], faces["astronaut"],
                            MotionOptions(relative=False), False)
    driver = case.view(case, faces["turned"])
    assert _turn(absolute.pose, driver.pose) < case.degrees
    if isinstance(case.engine, WarpEngine):
        # The driver's expression as it is, but for the upper lids: each eye is as closed as
        # the driver's, as a fraction of the source's own eye (motion/eyelids.py).
        lids = np.zeros(len(driver.expression), bool)
        for lid in eyelids():
            lids[np.r_[lid.upper, lid.lid, lid.iris]] = True
        assert np.allclose(absolute.expression[~lids], driver.expression[~lids], atol=1e-6)
    else:  # the keypoint rows and coordinates that carry expression, not face shape
        mask = expression_mask(MotionOptions(relative=False), 21).numpy() > 0
        assert np.allclose(absolute.expression[mask], driver.expression[mask], atol=1e-6)
        assert np.allclose(absolute.expression[~mask], source.expression[~mask], atol=1e-6)
    assert np.allclose(absolute.pose.translation[:2], source.pose.translation[:2], atol=1e-6)
    assert absolute.pose.scale == pytest.approx(source.pose.scale)


@pytest.fixture(scope="module")
def shifted(case, landmarker, hopper):
    """Hopper mirrored, and the same moved 12 px right and 8 px down: a driver whose head only
    shifts. Her photo is 512x600; the source, the astronaut, is 512x512."""
    calm = np.ascontiguousarray(hopper[:, ::-1])
    moved = np.roll(calm, (8, 12), axis=(0, 1))
    return [case.engine.extract(im, landmarker.detect(im)) for im in (calm, moved)]


def test_conformance_adapt_scale(case, shifted, astronaut, landmarker):
    source = case.engine.prepare_source(astronaut, landmarker.detect(astronaut))
    reference, driving = shifted
    ref_pose, drv_pose, src_pose = (case.view(case, face).pose
                                    for face in (reference, driving, source))
    driver_shift = (drv_pose.translation - ref_pose.translation)[:2]
    assert np.abs(driver_shift - [12, 8]).max() < 1.0
    for adapt, ratio in ((False, np.array([512 / 512, 512 / 600])),
                         (True, np.full(2, src_pose.scale / ref_pose.scale))):
        seen = case.observe(case, source, driving, reference,
                            MotionOptions(region="pose", adapt_scale=adapt), False)
        shift = (seen.pose.translation - src_pose.translation)[:2]
        assert np.allclose(shift, ratio * driver_shift, atol=1e-3)


def test_conformance_a_batch_renders_as_single_calls(case, faces):
    args = (faces["calm"], MotionOptions())
    drivings = [faces["open"], faces["calm"]]
    batch = case.engine.render_batch(faces["source"], drivings, *args)
    for driving, out in zip(drivings, batch, strict=True):
        single = case.engine.render(faces["source"], driving, *args)
        assert np.abs(single.astype(int) - out).max() <= 1


def test_conformance_a_video_keeps_its_frame_count(case, hopper, driving_video, driving_frames,
                                                   tmp_path):
    out = TransferPipeline(case.engine).transfer_video(hopper, driving_video, tmp_path / "o.mp4")
    frames = read_frames(out)
    assert len(frames) == len(driving_frames) and frames[0].shape == hopper.shape
