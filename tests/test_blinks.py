"""A blink in a driving video closes the result's eyes, however shut the landmarker reads it:
behind d19's glasses MediaPipe reads his shut eyes half open (the result blinked 0.5 of the
way). A squint, a laugh's narrowed eyes and a one-eyed narrowing are not blinks. Live, where no
frame can wait to be told a blink, the eyes are read against how shut the blinks seen so far
read, and a squint never shuts the eyes to open them when it outlasts a blink."""

import numpy as np
import pytest

from deepexpo import get_pipeline
from deepexpo.face.measure import eye_openings
from deepexpo.io.images import read_image
from deepexpo.io.video import Mp4Writer
from deepexpo.live import LiveReenactor
from deepexpo.motion.blinks import LiveBlinks, blink_openings
from deepexpo.motion.compose import MotionOptions

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
def d19_blink_frames() -> list[np.ndarray]:
    """Frames 84 to 116 of d19: the speaker, behind glasses, blinks in frames 99 to 101
    (15 to 17 here)."""
    return read_frames(shared_sample("driving/d19.mp4"))[84:117]


@pytest.fixture(scope="module")
def d19_blink(tmp_path_factory, d19_blink_frames):
    frames = d19_blink_frames
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



def test_a_videos_faces_are_read_as_its_transfer_reads_them(pipeline, d19_blink):
    """``video_faces``, the frames and faces a driving video gives its renderer (as the bench
    picks its frames by): every frame, the blink behind glasses read shut (0.28 to 0.34 of the
    first frame's gap, where the engine shuts an eye; as found, 0.51 to 0.67)."""
    read = list(pipeline.video_faces(d19_blink))
    assert len(read) == 33 and all(face is not None for _, face in read)
    gap = np.array([eye_openings(face.xy) for _, face in read])
    assert (gap[15:17] < 0.4 * gap[0]).all(), gap[15:17] / gap[0]
    assert (gap[-1] > 0.8 * gap[0]).all()

LIVE_FPS = 20.0


def _live(*stretches: tuple[float, float]) -> np.ndarray:
    """Both eyes' openings (read live) over ``stretches`` (seconds, the fraction of open
    both eyes read), as the landmarker finds them and as smoothed alike."""
    blinks = LiveBlinks(LIVE_FPS, SHUT)
    reads = []
    for seconds, fraction in stretches:
        for _ in range(round(seconds * LIVE_FPS)):
            openings = np.full(2, OPEN * fraction)
            reads.append(blinks.read(openings, openings))
    return np.array(reads) / OPEN


def test_live_a_blink_read_half_shut_teaches_the_next_to_close():
    """The first blink reads as found (it is told from a squint only half a second late);
    the next, read as shallow, closes the eyes, as does the first's own depth."""
    reads = _live((2.0, 1.0), (0.15, 0.5), (2.0, 1.0), (0.15, 0.5), (0.5, 1.0))
    first, second = reads[40:43], reads[83:86]
    np.testing.assert_allclose(first, 0.5)
    assert (second <= SHUT + 1e-9).all(), second
    np.testing.assert_allclose(reads[-1], 1.0)  # open again


def test_live_a_held_squint_narrows_without_a_jump():
    """Once the blinks are known to read half shut, a held squint reads narrower, the same
    all through: no eye shut while it might be a blink and opened when it outlasts one."""
    reads = _live((2.0, 1.0), (0.15, 0.5), (2.0, 1.0), (1.5, 0.7), (1.0, 1.0))
    squint = reads[83:113]
    assert (squint[:20] < 0.5).all()  # narrower than the 0.7 it reads, for a second at least
    assert abs(squint[2, 0] - squint[12, 0]) < 0.01  # past a blink's 0.4 s as before it
    # ... and no step after it either (the eyes' level follows a held squint slowly).
    assert np.abs(np.diff(squint, axis=0)).max() < 0.02, squint[:, 0]


@pytest.mark.parametrize("blink", [0.05, SHUT])
def test_live_blinks_that_read_shut_change_nothing(blink):
    reads = _live((2.0, 1.0), (0.15, blink), (2.0, 1.0), (1.0, 0.7), (0.3, 1.2))
    np.testing.assert_allclose(reads[83:], [[0.7, 0.7]] * 20 + [[1.2, 1.2]] * 6)


def test_live_a_blink_behind_glasses_closes_the_results_eyes_once_one_is_seen(
        d19_blink_frames, landmarker):
    """d19's blink, played twice to the Live tab: the second closes the photo's eyes (the
    first could not be told from a squint in time)."""
    source = read_image(shared_sample("sources/s1.jpg"))
    live = LiveReenactor(get_pipeline("warp"), source)
    try:
        out = [live.drive(frame, MotionOptions()).image for frame in d19_blink_frames * 2]
    finally:
        live.close()

    def opening(image: np.ndarray) -> np.ndarray:
        return np.array(eye_openings(landmarker.detect(image).xy))

    eyes = opening(source)
    # Shut in both of its shut frames: under 0.35 of the source's open eye (0.17 to 0.22;
    # read as the landmarker found it, 0.64 to 0.9).
    ratio = np.array([opening(out[len(d19_blink_frames) + i]) / eyes for i in (16, 17)])
    assert (ratio < 0.35).all(), ratio
    assert (opening(out[-1]) / eyes > 0.8).all()
