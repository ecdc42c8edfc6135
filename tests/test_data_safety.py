"""Nothing lost, nothing bypassed: output paths that are inputs or folders, interrupted runs,
decompression bombs and over-size images, from the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from deepexpo.cli import main
from deepexpo.io.images import write_image
from deepexpo.io.video import Mp4Writer

from .conftest import png_header_only, read_frames


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, astronaut, driving_video) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("safety")
    paths = {"photo": write_image(folder / "astronaut.png", astronaut),
             "coffee": write_image(folder / "coffee.png", data.coffee()),
             "video": folder / "clip.mp4"}
    paths["video"].write_bytes(driving_video.read_bytes())
    return paths


@pytest.mark.parametrize("command, output_is", [
    (["edit", "--source", "{video}", "--output", "{video}", "--emotion", "happy"], "video"),
    (["transfer", "--source", "{photo}", "--driving", "{video}", "--output", "{video}"], "video"),
    (["transfer", "--source", "{photo}", "--driving", "{photo}", "--output", "{photo}"], "photo"),
    (["edit", "--source", "{photo}", "--output", "{link}", "--smile", "1"], "photo"),
])
def test_an_output_that_is_an_input_is_refused_before_any_work(inputs, tmp_path, capsys,
                                                               command, output_is):
    link = tmp_path / "link.png"
    link.symlink_to(inputs["photo"])
    before = inputs[output_is].read_bytes()
    names = {**{k: str(v) for k, v in inputs.items()}, "link": str(link)}
    assert main([part.format(**names) for part in command]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the output") and "is also an input" in err
    assert err.count("\n") == 1
    assert inputs[output_is].read_bytes() == before


def test_an_output_folder_or_unknown_suffix_is_refused_before_any_work(inputs, tmp_path, capsys):
    folder = tmp_path / "d.mp4"
    folder.mkdir()
    assert main(["transfer", "--source", str(inputs["photo"]), "--driving", str(inputs["video"]),
                 "--output", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err
    # A source without a face would fail the work; the output is refused first.
    assert main(["transfer", "--source", str(inputs["coffee"]), "--driving", str(inputs["photo"]),
                 "--output", str(tmp_path / "out.xyz")]) == 2
    assert "cannot write an image as 'out.xyz'" in capsys.readouterr().err


@pytest.mark.parametrize("size, message", [
    ((30000, 30000), "has 900,000,000 pixels; the limit is 40 megapixels"),
    ((8000, 8000), "is 8000x8000 pixels; the limit is 40 megapixels"),
])
def test_decompression_bombs_and_over_size_images_are_one_line(inputs, tmp_path, capsys, size,
                                                               message):
    big = png_header_only(tmp_path / "big.png", *size)
    assert main(["transfer", "--source", str(big), "--driving", str(inputs["photo"]),
                 "--output", str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_no_face_video_leaves_nothing_under_the_output_name(tmp_path, capsys):
    video = tmp_path / "coffee.mp4"
    with Mp4Writer(video, 10) as writer:
        for _ in range(6):
            writer.write(data.coffee())
    out = tmp_path / "out.mp4"
    assert main(["edit", "--source", str(video), "--output", str(out), "--smile", "1"]) == 2
    assert "no face found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [video]


@pytest.fixture(scope="module")
def long_video(tmp_path_factory, astronaut) -> Path:
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    with Mp4Writer(path, 25) as writer:
        for i in range(500):
            writer.write(np.roll(astronaut, i % 8, axis=1))
    return path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_video_leaves_nothing_under_the_output_name(inputs, long_video, tmp_path,
                                                                   signum):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "deepexpo", "transfer", "--source",
                             str(inputs["photo"]), "--driving", str(long_video), "--output",
                             str(out_dir / "result.mp4"), "--engine", "warp"],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(out_dir.iterdir()) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)  # until the partial file is being written
    assert proc.poll() is None, "the run ended before it could be interrupted"
    time.sleep(0.5)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().endswith("error: interrupted; no output was written")
    assert list(out_dir.iterdir()) == []


def test_a_complete_video_appears_whole(inputs, tmp_path, driving_frames):
    out = tmp_path / "out.mp4"
    assert main(["transfer", "--source", str(inputs["photo"]), "--driving", str(inputs["video"]),
                 "--output", str(out)]) == 0
    assert len(read_frames(out)) == len(driving_frames)
    assert list(tmp_path.iterdir()) == [out]  # no partial file left beside it


def test_generate_checks_its_models_before_loading_anything(inputs, tmp_path):
    """Without the base model, generate says so at once: no diffusers import, no warning about
    the reference first."""
    code = ("import sys; from deepexpo.cli import main; "
            f"rc = main(['generate', '--prompt', 'a portrait', '--reference', r'{inputs['photo']}', "
            f"'--output', r'{tmp_path / 'g.png'}']); "
            "print(rc, 'diffusers' in sys.modules)")
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.stdout.split() == ["2", "False"]
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "needs 2 models that are not downloaded" in proc.stderr  # base and identity
    assert "the Stable Diffusion 1.5 base model" in proc.stderr
