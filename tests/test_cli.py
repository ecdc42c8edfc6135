"""The command line: results on disk, and one-line errors with exit code 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepexpo.cli import main
from deepexpo.io.images import read_image
from deepexpo.io.video import probe_video

from .conftest import shared_sample

#: A line of glog's format (severity, date, time, thread: ``W0000 00:00:17... 123 file.cc:1]``).
GLOG_LINE = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\]")


@pytest.fixture(scope="module")
def files(tmp_path_factory, hopper, open_mouth_driver) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    paths = {"source": d / "source.jpg", "driving": d / "driving.png", "blank": d / "blank.png",
             "text": d / "notes.txt", "fake": d / "fake.jpg"}
    Image.fromarray(hopper).save(paths["source"], quality=95)
    Image.fromarray(open_mouth_driver).save(paths["driving"])
    Image.fromarray(np.full((200, 200, 3), 180, np.uint8)).save(paths["blank"])
    paths["text"].write_text("hello")
    paths["fake"].write_text("this is not a jpeg")
    return paths


def test_cli_transfers_an_image(files, tmp_path, measure):
    out = tmp_path / "out.png"
    code = main(["transfer", "--source", str(files["source"]), "--driving", str(files["driving"]),
                 "--output", str(out)])
    assert code == 0
    result = read_image(out)
    assert result.shape == read_image(files["source"]).shape
    assert measure.mouth(result) > measure.mouth(read_image(files["source"])) + 0.1


@pytest.mark.parametrize(
    ("source", "driving", "output", "message"),
    [
        ("blank", "driving", "out.png", "error: no face found in source image"),
        ("source", "blank", "out.png", "error: no face found in driving image"),
        ("fake", "driving", "out.png", "error: cannot read image 'fake.jpg'"),
        ("text", "driving", "out.png", "error: unsupported image format '.txt'"),
        ("missing", "driving", "out.png", "error: file not found"),
        ("source", "driving", "out.gif", "error: cannot write an image as 'out.gif'"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code_2(files, tmp_path, source, driving, output,
                                                  message):
    src = files.get(source, tmp_path / "missing.jpg")
    proc = subprocess.run(
        [sys.executable, "-m", "deepexpo", "transfer", "--source", str(src), "--driving",
         str(files[driving]), "--output", str(tmp_path / output)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    # Exactly the one line: MediaPipe's C++ logging (a dozen lines before) stays off stderr.
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr


def test_verbose_shows_diagnostics_and_mediapipes_logging(files, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "deepexpo", "transfer", "--source", str(files["blank"]),
         "--driving", str(files["driving"]), "--output", str(tmp_path / "out.png"), "-v"],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 2
    assert "INFO deepexpo" in proc.stderr
    assert "XNNPACK" in proc.stderr or "W0000" in proc.stderr
    # MediaPipe's C++ threads log on their own schedule (a line may land after ours), so
    # our error is the last of the lines that are not in glog's format.
    ours = [line for line in proc.stderr.splitlines() if not GLOG_LINE.match(line)]
    assert ours[-1].startswith("error: no face found in source image"), proc.stderr


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--yaw", "inf", "yaw must be a finite number, not inf"),
    ("--smile", "nan", "smile must be a finite number, not nan"),
    ("--roll", "-400", "roll must be between -90 and 90"),
    ("--intensity", "nan", "intensity must be a finite number"),
])
def test_edit_refuses_numbers_that_are_not_finite_or_in_range(files, tmp_path, option, value,
                                                             message):
    """``--yaw inf`` was a traceback, ``--smile nan`` an unchanged photo with exit 0."""
    extra = ["--emotion", "happy"] if option == "--intensity" else []
    proc = subprocess.run(
        [sys.executable, "-m", "deepexpo", "edit", "--source", str(files["source"]),
         "--output", str(tmp_path / "out.png"), *extra, option, value],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: {message}"] or (
        len(proc.stderr.splitlines()) == 1 and message in proc.stderr), proc.stderr
    assert not (tmp_path / "out.png").exists()


def test_cli_rejects_bad_strength_and_video_to_image(files, tmp_path, capsys):
    assert main(["transfer", "--source", str(files["source"]), "--driving",
                 str(files["driving"]), "--output", str(tmp_path / "o.png"),
                 "--strength", "5"]) == 2
    assert "strength must be between 0 and 2" in capsys.readouterr().err
    video = tmp_path / "d.mp4"
    video.write_bytes(b"")
    assert main(["transfer", "--source", str(files["source"]), "--driving", str(video),
                 "--output", str(tmp_path / "o.png")]) == 2
    assert "--output must end in .mp4" in capsys.readouterr().err


def test_cli_unavailable_engine(files, tmp_path, capsys):
    assert main(["transfer", "--source", str(files["source"]), "--driving",
                 str(files["driving"]), "--output", str(tmp_path / "o.png"),
                 "--engine", "neural"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the neural engine needs the LivePortrait networks")
    assert "python -m deepexpo download neural" in err and err.count("\n") == 1


def test_cli_download_offline_is_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-m", "deepexpo", "download", "sd15"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error: cannot download the Stable Diffusion 1.5 base model: "
                                  "HF_HUB_OFFLINE is set")


def test_cli_on_shared_video_sample(tmp_path):
    source = shared_sample("sources/s42.jpg")
    driving = shared_sample("driving/d0.mp4")
    out = tmp_path / "s42_d0.mp4"
    assert main(["transfer", "--source", str(source), "--driving", str(driving),
                 "--output", str(out)]) == 0
    info = probe_video(out)
    assert info.frame_count == 78 and info.size == (512, 512)


def test_cli_edits_a_photo_with_an_emotion(files, tmp_path, measure):
    out = tmp_path / "happy.png"
    assert main(["edit", "--source", str(files["source"]), "--output", str(out),
                 "--emotion", "happy", "--keep-source", "1"]) == 0
    source = read_image(files["source"])
    assert measure.features(read_image(out))["lift"] > measure.features(source)["lift"] + 0.02


def test_cli_edits_a_video_with_controls(driving_video, driving_frames, tmp_path):
    out = tmp_path / "edited.mp4"
    assert main(["edit", "--source", str(driving_video), "--output", str(out), "--smile", "0.8",
                 "--eyebrow-raise", "0.5"]) == 0
    info = probe_video(out)
    assert info.frame_count == len(driving_frames) and info.has_audio


def test_cli_edit_errors(files, tmp_path, driving_video, capsys):
    assert main(["edit", "--source", str(files["source"]), "--output", str(tmp_path / "o.png"),
                 "--emotion", "sad", "--intensity", "5"]) == 2
    assert "intensity must be between 0 and 2" in capsys.readouterr().err
    assert main(["edit", "--source", str(driving_video), "--output", str(tmp_path / "o.png")]) == 2
    assert "--output must end in .mp4" in capsys.readouterr().err
    assert main(["edit", "--source", str(files["blank"]), "--output", str(tmp_path / "o.png"),
                 "--smile", "1"]) == 2
    assert "no face found in image" in capsys.readouterr().err


def test_cli_reference_needs_a_video_source(files, tmp_path, driving_video, capsys):
    assert main(["edit", "--source", str(files["source"]), "--output", str(tmp_path / "o.png"),
                 "--reference", str(driving_video)]) == 2
    assert "--reference needs a video source" in capsys.readouterr().err


def test_start_leaves_out_pyplot_and_mediapipe_can_still_draw():
    """MediaPipe's package imports matplotlib's pyplot for drawing helpers DeepExPo never uses,
    half a second of every start: the command line starts without it, and those helpers still
    find pyplot when called."""
    code = ("import sys; import deepexpo.cli; print('matplotlib.pyplot' in sys.modules); "
            "from mediapipe.python.solutions import drawing_utils; "
            "print(callable(drawing_utils.plt.figure), 'matplotlib.pyplot' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert proc.stdout.split() == ["False", "True", "True"], proc.stderr
