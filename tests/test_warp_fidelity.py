"""The warp engine follows gaze, blinks and nods, measured on real faces with dlib (landmarks
independent of the engine's own): the sample photo s42 driven by frames of the sample clips d0
(looks right, then left, then blinks) and d3 (nods)."""

import numpy as np
import pytest

from deepexpo.evaluation.scorer import DlibScorer
from deepexpo.io.images import read_image
from deepexpo.io.video import iter_frames, probe_video
from deepexpo.motion.compose import MotionOptions

from .conftest import shared_sample

LOOKS_RIGHT, LOOKS_LEFT, EYES_SHUT = 15, 31, 66  # frames of d0
HEAD_UP, HEAD_DOWN = 238, 328  # frames of d3 (dlib pitch +2 and -16 degrees, little yaw)


def _frames(name: str, *indices: int) -> list[np.ndarray]:
    frames = list(iter_frames(probe_video(shared_sample(f"driving/{name}.mp4"))))
    return [frames[i] for i in indices]


@pytest.fixture(scope="module")
def scorer() -> DlibScorer:
    return DlibScorer()


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    return read_image(shared_sample("sources/s42.jpg"))


@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
def test_the_irises_follow_the_drivers_gaze(pipeline, scorer, source, relative):
    right, left = _frames("d0", LOOKS_RIGHT, LOOKS_LEFT)
    assert scorer.face(right).gaze - scorer.face(left).gaze > 0.25  # the driver looks around
    options = MotionOptions(relative=relative)
    towards_right = scorer.face(pipeline.transfer_image(source, right, options)).gaze
    towards_left = scorer.face(pipeline.transfer_image(source, left, options)).gaze
    assert towards_right - towards_left > 0.08, (towards_right, towards_left)


def test_a_closed_eyed_driver_closes_the_results_eyes(pipeline, scorer, source):
    (shut,) = _frames("d0", EYES_SHUT)
    opened = scorer.face(source).eye_openness
    closed = scorer.face(pipeline.transfer_image(source, shut)).eye_openness
    # dlib's own landmarks never meet on a shut eye: the driver's read 0.26-0.17 against an
    # open 0.35, so a result this far down is shut, where it read 0.29 before.
    assert closed < 0.55 * opened, (closed, opened)


def test_a_nodding_driver_moves_the_results_pitch_the_same_way(pipeline, scorer, source):
    up, down = _frames("d3", HEAD_UP, HEAD_DOWN)
    driver_change = scorer.face(down).pose[1] - scorer.face(up).pose[1]
    result_change = (scorer.face(pipeline.transfer_image(source, down)).pose[1]
                     - scorer.face(pipeline.transfer_image(source, up)).pose[1])
    assert driver_change < -10
    assert result_change < -3, result_change
