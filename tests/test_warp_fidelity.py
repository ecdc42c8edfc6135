"""The warp engine follows gaze, blinks and nods, measured on real faces with dlib (landmarks
independent of the engine's own): the sample photo s42 driven by frames of the sample clips d0
(looks right, then left, then blinks) and d3 (nods). And a moved face keeps its fine detail."""

import cv2
import numpy as np
import pytest

from deepexpo.evaluation.scorer import DlibScorer
from deepexpo.face.measure import eye_openings
from deepexpo.face.topology import TOPOLOGY
from deepexpo.io.images import read_image
from deepexpo.motion.compose import MotionOptions

from .conftest import driving_clip_frames, shared_sample

LOOKS_RIGHT, LOOKS_LEFT, EYES_SHUT = 15, 31, 66  # frames of d0
HEAD_UP, HEAD_DOWN = 238, 328  # frames of d3 (dlib pitch +2 and -16 degrees, little yaw)


@pytest.fixture(scope="module")
def scorer() -> DlibScorer:
    return DlibScorer()


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    return read_image(shared_sample("sources/s42.jpg"))


@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
def test_the_irises_follow_the_drivers_gaze(pipeline, scorer, source, relative):
    right, left = driving_clip_frames("d0", LOOKS_RIGHT, LOOKS_LEFT)
    assert scorer.face(right).gaze - scorer.face(left).gaze > 0.25  # the driver looks around
    options = MotionOptions(relative=relative)
    towards_right = scorer.face(pipeline.transfer_image(source, right, options)).gaze
    towards_left = scorer.face(pipeline.transfer_image(source, left, options)).gaze
    assert towards_right - towards_left > 0.08, (towards_right, towards_left)


def test_a_closed_eyed_driver_closes_the_results_eyes(pipeline, scorer, source, landmarker):
    opened, shut = driving_clip_frames("d0", 0, EYES_SHUT)
    out = pipeline.transfer_image(source, shut)
    # dlib's own landmarks never meet on a shut eye: the driver's real blink reads 0.46 of his
    # open eyes, this result 0.47 of the source's, so against that, within dlib's spread on
    # shut eyes (s42's own blinks at 0.5, 0.7 and 1 read 0.44-0.48: dlib cannot tell them
    # apart) ...
    driver = scorer.face(shut).eye_openness / scorer.face(opened).eye_openness
    result = scorer.face(out).eye_openness / scorer.face(source).eye_openness
    assert result < driver + 0.05, (result, driver)
    # ... and MediaPipe, read on the output, sees them shut (under 0.35 of open; 0.12-0.19).
    ratio = (np.array(eye_openings(landmarker.detect(out).xy))
             / np.array(eye_openings(landmarker.detect(source).xy)))
    assert (ratio < 0.35).all(), ratio


def test_a_nodding_driver_moves_the_results_pitch_the_same_way(pipeline, scorer, source):
    up, down = driving_clip_frames("d3", HEAD_UP, HEAD_DOWN)
    driver_change = scorer.face(down).pose[1] - scorer.face(up).pose[1]
    result_change = (scorer.face(pipeline.transfer_image(source, down)).pose[1]
                     - scorer.face(pipeline.transfer_image(source, up)).pose[1])
    assert driver_change < -10
    assert result_change < -3, result_change


def _fine_detail(image: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Mean absolute Laplacian of the grey image in squares half the eye distance wide on the
    forehead and both cheeks (skin an expression leaves as it is), each centred on its
    landmark in ``xy``."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    laplacian = np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=1))
    half = int(0.25 * np.linalg.norm(xy[TOPOLOGY.right_iris_center]
                                     - xy[TOPOLOGY.left_iris_center]))
    centres = np.round(xy[[151, 205, 425]]).astype(int)  # forehead, right and left cheek
    return np.array([laplacian[y - half:y + half, x - half:x + half].mean() for x, y in centres])


def test_a_moved_head_keeps_the_sources_fine_detail(pipeline, landmarker):
    """The painting s10 driven by d19 (her head moved ~5 px, by fractions of a pixel): her
    forehead and cheeks keep their crackle, their fine detail 0.65 of the source's or more
    (0.69-0.77 bicubic). Resampled bilinearly, every pixel between four of the source's was
    their average, the whole face blurred: 0.48-0.55."""
    source = read_image(shared_sample("sources/s10.jpg"))
    out = pipeline.transfer_image(source, read_image(shared_sample("driving/d19.jpg")))
    kept = (_fine_detail(out, landmarker.detect(out).xy)
            / _fine_detail(source, landmarker.detect(source).xy))
    assert (kept > 0.65).all(), kept
