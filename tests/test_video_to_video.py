"""A source video driven by a driving video (DPE's video portrait editing, LivePortrait's v2v):
``region=expression`` takes the driver's expression and keeps the source's head motion, ``pose``
the reverse. Source and driving clips are rendered from the bundled photos by the warp engine,
with known motion; the output is measured frame by frame with our landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file

from deepexpo.cli import main
from deepexpo.face.measure import eye_openings
from deepexpo.io.images import write_image
from deepexpo.io.video import Mp4Writer, probe_video
from deepexpo.motion.compose import MotionOptions

from .conftest import pose_face, read_frames, shared_sample

SOURCE_FPS, DRIVER_FPS, SECONDS = 10.0, 20.0, 2.0


def _clip(path: Path, frames: list[np.ndarray], fps: float, audio: Path | None = None) -> Path:
    with Mp4Writer(path, fps, audio_from=audio) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def _wave(n: int, cycles: float) -> np.ndarray:
    """0 to 1 and back, ``cycles`` times over ``n`` frames (a mouth opening and closing)."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * cycles * np.arange(n) / n)


def _turn(n: int, cycles: float) -> np.ndarray:
    """Yaw in control degrees, from straight ahead to 15 each way and back."""
    return 15 * np.sin(2 * np.pi * cycles * np.arange(n) / n)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, astronaut, hopper, landmarker, tone) -> dict[str, Path]:
    """The astronaut turning her head, or talking (2 s at 10 fps, with sound); Hopper, mirrored,
    talking, or turning (2 s at 20 fps, silent)."""
    folder = tmp_path_factory.mktemp("v2v")
    n_src, n_drv = int(SOURCE_FPS * SECONDS), int(DRIVER_FPS * SECONDS)
    calm = np.ascontiguousarray(hopper[:, ::-1])
    return {
        "source_turning": _clip(folder / "source_turning.mp4", [
            pose_face(astronaut, landmarker, yaw=y) for y in _turn(n_src, 1)],
            SOURCE_FPS, tone),
        "source_talking": _clip(folder / "source_talking.mp4", [
            pose_face(astronaut, landmarker, aaa=0.8 * w) for w in _wave(n_src, 2)],
            SOURCE_FPS, tone),
        "driver_talking": _clip(folder / "driver_talking.mp4", [
            pose_face(calm, landmarker, aaa=0.8 * w) for w in _wave(n_drv, 1.5)], DRIVER_FPS),
        "driver_turning": _clip(folder / "driver_turning.mp4", [
            pose_face(calm, landmarker, yaw=y) for y in _turn(n_drv, 1.5)],
            DRIVER_FPS),
    }


def _signals(measure, frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([measure.mouth(f) for f in frames]),
            np.array([measure.yaw(f) for f in frames]))


def _r(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("region, source, driver, follows_driver", [
    ("expression", "source_turning", "driver_talking", "mouth"),
    ("pose", "source_talking", "driver_turning", "yaw"),
])
def test_each_region_follows_the_driver_and_keeps_the_rest_of_the_source(
        pipeline, clips, measure, tmp_path, region, source, driver, follows_driver):
    out = pipeline.reenact_video(clips[source], clips[driver], tmp_path / "out.mp4",
                                 MotionOptions(region=region))
    frames = read_frames(out)
    source_frames, driver_frames = read_frames(clips[source]), read_frames(clips[driver])
    assert len(frames) == len(source_frames)
    aligned = driver_frames[::int(DRIVER_FPS / SOURCE_FPS)]  # the driver at the source's times
    mouth, yaw = _signals(measure, frames)
    src_mouth, src_yaw = _signals(measure, source_frames)
    drv_mouth, drv_yaw = _signals(measure, aligned)
    if follows_driver == "mouth":  # expression: the driver's mouth, the source's head turn
        assert _r(mouth, drv_mouth) >= 0.9 and _r(yaw, src_yaw) >= 0.9
    else:  # pose: the driver's head turn, the source's mouth (its speech)
        assert _r(yaw, drv_yaw) >= 0.9 and _r(mouth, src_mouth) >= 0.9


def test_the_output_keeps_the_source_timeline_and_sound(clips, tmp_path, driving_video):
    out = tmp_path / "out.mp4"
    assert main(["transfer", "--source", str(clips["source_turning"]), "--driving",
                 str(clips["driver_talking"]), "--output", str(out), "--region",
                 "expression"]) == 0
    info, source = probe_video(out), probe_video(clips["source_turning"])
    assert (info.frame_count, info.fps, info.has_audio) == (source.frame_count, source.fps, True)
    silent = tmp_path / "silent.mp4"  # the driver's sound: this driver has none
    assert main(["transfer", "--source", str(clips["source_turning"]), "--driving",
                 str(clips["driver_talking"]), "--output", str(silent), "--audio",
                 "driving"]) == 0
    assert not probe_video(silent).has_audio
    sound = tmp_path / "sound.mp4"  # a silent source with a driver that has sound
    assert main(["transfer", "--source", str(clips["driver_turning"]), "--driving",
                 str(driving_video), "--output", str(sound), "--audio", "driving"]) == 0
    assert probe_video(sound).has_audio


def test_a_shorter_driver_holds_its_last_frame_or_ends_the_output(pipeline, clips, tmp_path,
                                                                  driving_video):
    """The 1.2 s driving clip on the 2 s source: 20 frames, or 12 with ``shortest``."""
    held = pipeline.reenact_video(clips["source_turning"], driving_video, tmp_path / "held.mp4")
    cut = pipeline.reenact_video(clips["source_turning"], driving_video, tmp_path / "cut.mp4",
                                 shortest=True)
    assert probe_video(held).frame_count == 20
    assert probe_video(cut).frame_count == 12


def test_a_driving_image_applies_its_expression_to_every_frame(pipeline, clips, measure,
                                                               open_mouth_driver, tmp_path):
    driver = tmp_path / "open.png"
    from deepexpo.io.images import write_image

    write_image(driver, open_mouth_driver)
    out = pipeline.reenact_video(clips["source_turning"], driver, tmp_path / "out.mp4",
                                 MotionOptions(region="expression"))
    mouth, _ = _signals(measure, read_frames(out))
    src_mouth, _ = _signals(measure, read_frames(clips["source_turning"]))
    assert np.all(mouth > src_mouth + 0.1)


def test_the_app_takes_a_source_video(clips, tmp_path):
    from gradio_client import Client

    from deepexpo.ui import build_demo, launch

    from .test_app import DEFAULTS, EXAMPLES

    demo = build_demo(EXAMPLES)
    _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False, download_files=str(tmp_path))
        result = client.predict(None, handle_file(str(clips["driver_talking"])), *DEFAULTS, False,
                                handle_file(str(clips["source_turning"])),
                                api_name="/transfer_video")
    finally:
        demo.close()
    path = result["video"] if isinstance(result, dict) else result
    assert probe_video(path).frame_count == probe_video(clips["source_turning"]).frame_count


def _s18(tmp_path_factory, first: int, last: int) -> Path:
    """Frames ``first`` to ``last`` of s18 (at half size) as a clip: its speaker blinks in
    frames 6 to 11."""
    frames = [np.ascontiguousarray(f[::2, ::2]) for f in
              read_frames(shared_sample("sources/s18.mp4"))[first:last]]
    return _clip(tmp_path_factory.mktemp("blink") / "blink.mp4", frames, 30.0)


@pytest.fixture(scope="module")
def blinking_clip(tmp_path_factory) -> Path:
    """The first half second of s18, which blinks in frames 6 to 11."""
    return _s18(tmp_path_factory, 0, 16)


@pytest.fixture(scope="module")
def starts_shut(tmp_path_factory) -> Path:
    """s18 cut in its blink: its first frames show the eyes shut, then open."""
    return _s18(tmp_path_factory, 8, 24)


def _eyes_open(landmarker, frames: list[np.ndarray]) -> np.ndarray:
    """Both eyes' opening per frame, read with MediaPipe on the frames."""
    return np.array([np.mean(eye_openings(landmarker.detect(f).xy)) for f in frames])


def test_a_source_videos_blink_opens_where_the_driver_moves_the_eyes(
        pipeline, blinking_clip, hopper, landmarker, tmp_path):
    """Driven by an open-eyed face where the driver moves the eyes, a source video's blink is
    drawn with the eyes the frames before it showed open (the warp cannot open a shut lid: the
    output blinked where the source did, its eyes read 0.2 of open); where the driver leaves
    the eyes to the source (``pose``), the source's own blink stays."""
    driver = tmp_path / "open.png"
    write_image(driver, hopper)
    source = _eyes_open(landmarker, read_frames(blinking_clip))
    shut = source < 0.5 * source[0]
    assert shut[6:12].sum() >= 3, source  # (the clip blinks)
    for region, opens in (("expression", True), ("pose", False)):
        out = _eyes_open(landmarker, read_frames(pipeline.reenact_video(
            blinking_clip, driver, tmp_path / f"{region}.mp4", MotionOptions(region=region))))
        assert (out[shut].min() > 0.7 * out[0]) == opens, (region, out)


def test_a_blink_in_a_source_videos_first_frames_opens(pipeline, starts_shut, hopper,
                                                        landmarker, tmp_path):
    """A source video whose first frames blink has no open frame before them to lend the
    eyes: they are drawn from the first open frame after (they stayed shut, 0.3 of open)."""
    driver = tmp_path / "open.png"
    write_image(driver, hopper)
    source = _eyes_open(landmarker, read_frames(starts_shut))
    shut = source < 0.5 * source.max()
    assert shut[0] and not shut[-4:].any(), source  # (the clip starts in its blink)
    out = _eyes_open(landmarker, read_frames(pipeline.reenact_video(
        starts_shut, driver, tmp_path / "out.mp4", MotionOptions(region="expression"))))
    assert len(out) == len(source)
    assert out[shut].min() > 0.7 * np.median(out[~shut]), out
