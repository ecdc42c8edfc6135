"""Drivers whose timing is not a plain constant rate: a variable-frame-rate clip keeps its
duration and its sound in sync; a WebM without a duration in its header (as a browser's
MediaRecorder writes it) is read to its end."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from deepexpo.io.video import Mp4Writer, probe_video

from .conftest import read_frames

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args],
                          check=True, timeout=120, **kwargs)


def header(path: Path) -> str:
    return subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True,
                          text=True, timeout=60).stderr


def packets(path: Path) -> int:
    """The video stream's frames, counted by FFmpeg from the packets (independently of ours)."""
    out = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path), "-map", "0:v:0", "-c", "copy",
                          "-f", "framecrc", "-"], capture_output=True, text=True,
                         timeout=60).stdout
    return sum(line.startswith("0,") for line in out.splitlines())


def seconds(path: Path) -> float:
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", header(path)).groups()
    return 3600 * int(h) + 60 * int(m) + float(s)


@pytest.fixture(scope="module")
def variable_rate_clip(tmp_path_factory, driving_frames) -> Path:
    """About 35 frames spread unevenly over 3.0 s (4 of every 9 of a 25 fps clip), with 3 s
    of sound: FFmpeg's header reports 25 tbr for it."""
    folder = tmp_path_factory.mktemp("vfr")
    steady = folder / "steady.mp4"
    with Mp4Writer(steady, 25.0) as writer:
        for i in range(75):
            writer.write(driving_frames[(i // 6) % len(driving_frames)])
    clip = folder / "vfr.mp4"
    ffmpeg("-i", str(steady), "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
           "-vf", r"select='lt(mod(n\,9)\,4)'", "-fps_mode", "vfr", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip))
    return clip


def test_a_variable_frame_rate_driver_keeps_its_duration_and_sound(pipeline, hopper,
                                                                   variable_rate_clip,
                                                                   tmp_path):
    assert 30 <= packets(variable_rate_clip) <= 40
    assert seconds(variable_rate_clip) == pytest.approx(3.0, abs=0.05)
    out = pipeline.transfer_video(hopper, variable_rate_clip, tmp_path / "out.mp4")
    info = probe_video(out)
    frames = packets(out)
    assert info.has_audio
    # The picture lasts as long as the driver and its sound (it was 75 frames at 11 fps, 6.6 s).
    assert frames / info.fps == pytest.approx(3.0, abs=0.15)
    assert seconds(out) == pytest.approx(3.0, abs=0.15)
    assert len(read_frames(out)) == frames


@pytest.fixture(scope="module")
def recorded_webm(tmp_path_factory, driving_video) -> Path:
    """The driving clip as a browser's recorder writes it: VP8 in WebM, streamed, so the header
    has neither a duration nor a frame rate."""
    path = tmp_path_factory.mktemp("webm") / "recording.webm"
    data = subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-i", str(driving_video),
                           "-c:v", "libvpx", "-b:v", "1M", "-c:a", "libopus", "-f", "webm",
                           "pipe:1"], capture_output=True, check=True, timeout=120).stdout
    path.write_bytes(data)
    assert "Duration: N/A" in header(path)
    return path


def test_a_webm_without_a_duration_is_read_to_its_end(pipeline, hopper, recorded_webm,
                                                      driving_frames, tmp_path):
    info = probe_video(recorded_webm)
    assert info.frame_count == len(driving_frames)
    assert info.fps == pytest.approx(10.0, rel=0.05)
    out = pipeline.transfer_video(hopper, recorded_webm, tmp_path / "out.mp4")
    assert len(read_frames(out)) == len(driving_frames)
    assert probe_video(out).has_audio
