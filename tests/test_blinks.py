"""A blink in a driving video closes the result's eyes, however shut the landmarker reads it:
behind d19's glasses MediaPipe reads his shut eyes half open (the result blinked 0.5 of the
way). A squint, a laugh's narrowed eyes and a one-eyed narrowing are not blinks."""

import numpy as np
import pytest

from deepexpo.face.measure import eye_openings
from deepexpo.io.images import read_image
from deepexpo.io.video import Mp4Writer
from deepexpo.motion.blinks import blink_openings

from .conftest import read_frames, shared_sample

FPS = 30.0
OPEN, SHUT = 0.05, 0.12  # an open eye's canonical gap; the fraction of it read as shut


def _eyes(*runs: tuple[int, int, float, float]) -> np.ndarray:
    """Both eyes' openings over 31 frames, open but for ``runs`` (first frame, length, the
    fraction of open each eye reads there)."""
    openings = np.full((31, 2), OPEN)
    for first, length, right, left in runs:
        openings[first:first + length] = OPEN * np.array([right, left])
    return openings


@pytest.mark.parametrize("openings, shut", [
    (_eyes((14, 3, 0.5, 0.5)), True),  # a blink read half shut
    (_eyes((14, 3, 0.5, 0.95)), False),  # one eye narrowed
    (_eyes((4, 24, 0.5, 0.5)), False),  # eyes narrowed for most of a second
    (_eyes((14, 3, 0.85, 0.85)), False),  # a flicker
])
def test_a_brief_dip_of_both_eyes_is_read_shut(openings, shut):
    read = blink_openings(openings, 15, FPS, SHUT)
    if shut:
        np.testing.assert_allclose(read, 0.0, atol=1e-12)
    else:
        np.testing.assert_array_equal(read, openings[15])


def test_the_lids_on_their_way_close_in_proportion_and_a_blink_read_shut_stays():
    openings = _eyes((14, 3, 0.05, 0.5))  # the right eye's blink reads shut
    openings[13] = openings[17] = 0.9 * OPEN  # the lids on their way
    bottom, on_the_way, before = (blink_openings(openings, at, FPS, SHUT) for at in (15, 13, 10))
    assert bottom[0] == openings[15, 0] and bottom[1] == pytest.approx(0.0)
    assert on_the_way[0] == openings[13, 0]
    assert bottom[1] < on_the_way[1] < openings[13, 1]
    np.testing.assert_array_equal(before, openings[10])


@pytest.fixture(scope="module")
def d19_blink(tmp_path_factory):
    """Frames 84 to 116 of d19: the speaker, behind glasses, blinks in frames 99 to 101
    (15 to 17 here)."""
    frames = read_frames(shared_sample("driving/d19.mp4"))[84:117]
    path = tmp_path_factory.mktemp("d19") / "blink.mp4"
    with Mp4Writer(path, FPS) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def test_a_blink_behind_glasses_closes_the_results_eyes(pipeline, d19_blink, landmarker):
    source = read_image(shared_sample("sources/s1.jpg"))
    out = list(pipeline.transfer_frames(source, d19_blink))
    assert len(out) == 33

    def opening(image: np.ndarray) -> np.ndarray:
        return np.array(eye_openings(landmarker.detect(image).xy))

    eyes = opening(source)
    # Shut in both of its shut frames: under 0.35 of the source's open eye (0.15 to 0.22;
    # read as the landmarker found it, 0.67 to 0.92).
    ratio = np.array([opening(out[i]) / eyes for i in (15, 16)])
    assert (ratio < 0.35).all(), ratio
    # ... and open either side.
    assert (opening(out[0]) / eyes > 0.8).all() and (opening(out[-1]) / eyes > 0.8).all()
