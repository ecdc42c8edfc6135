"""The Gradio app, called the way a remote user calls it: gradio_client against the app launched
in-process on 127.0.0.1. Results are checked on pixels with the project's landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from skimage import data

from deepexpo.config import APP_LIMITS
from deepexpo.io.images import read_image, write_image
from deepexpo.io.video import Mp4Writer, probe_video
from deepexpo.motion.controls import ExpressionControls
from deepexpo.ui import build_demo, launch

from .conftest import FPS, read_frames

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"
DEFAULTS = ("warp", "all", False, 1.0, False)  # engine, region, absolute, strength, adapt


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Client:
    demo = build_demo(EXAMPLES)
    _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        yield Client(url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))
    finally:
        demo.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory, astronaut, hopper, open_mouth_driver) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("uploads")
    paths = {}
    for name, image in (("astronaut.png", astronaut), ("hopper.png", hopper),
                        ("open_mouth.png", open_mouth_driver),
                        ("coffee.png", data.coffee())):
        write_image(folder / name, image)
        paths[name] = str(folder / name)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    paths["broken.png"] = str(folder / "broken.png")
    return paths


def _image(client: Client, source: str, driving: str, side_by_side: bool = False) -> np.ndarray:
    path = client.predict(handle_file(source), handle_file(driving), *DEFAULTS, side_by_side,
                          api_name="/transfer_image")
    return read_image(path)


def test_endpoints_are_listed(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/transfer_image", "/transfer_video", "/edit_image", "/edit_video",
            "/generate"} <= set(endpoints)


def test_image_endpoint_transfers_the_expression(client, files, hopper, measure):
    out = _image(client, files["hopper.png"], files["open_mouth.png"])
    assert out.shape == hopper.shape
    assert measure.mouth(out) > measure.mouth(hopper) + 0.1


def test_image_endpoint_side_by_side(client, files, astronaut):
    out = _image(client, files["astronaut.png"], files["open_mouth.png"], side_by_side=True)
    assert out.shape[0] == astronaut.shape[0] and out.shape[1] > 2.5 * astronaut.shape[1]


def test_video_endpoint_follows_the_driver(client, files, driving_video, driving_frames,
                                           hopper, measure):
    result = client.predict(handle_file(files["hopper.png"]), handle_file(str(driving_video)),
                            *DEFAULTS, False, api_name="/transfer_video")
    path = result["video"] if isinstance(result, dict) else result
    info = probe_video(path)
    assert info.fps == pytest.approx(FPS) and info.has_audio
    frames = read_frames(path)
    assert len(frames) == len(driving_frames)
    assert frames[0].shape == hopper.shape
    assert measure.mouth(frames[6]) > measure.mouth(frames[1]) + 0.1


@pytest.mark.parametrize("source, driving, message", [
    ("coffee.png", "open_mouth.png", "no face found in source image"),
    ("astronaut.png", "coffee.png", "no face found in driving image"),
    ("broken.png", "open_mouth.png", "cannot read image"),
])
def test_image_endpoint_bad_input(client, files, source, driving, message):
    with pytest.raises(AppError, match=message):
        _image(client, files[source], files[driving])


def test_image_endpoint_missing_input(client, files):
    with pytest.raises(AppError, match="Upload a driving image"):
        client.predict(handle_file(files["astronaut.png"]), None, *DEFAULTS, False,
                       api_name="/transfer_image")


def test_video_endpoint_rejects_too_long_videos(client, files, tmp_path):
    path = tmp_path / "long.mp4"
    fps = 4
    with Mp4Writer(path, fps) as writer:
        for _ in range(int(APP_LIMITS.max_video_seconds * fps) + 8):
            writer.write(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(AppError, match="too long"):
        client.predict(handle_file(files["astronaut.png"]), handle_file(str(path)),
                       *DEFAULTS, False, api_name="/transfer_video")


def test_generation_explains_the_missing_base_model(client, files, monkeypatch):
    monkeypatch.setenv("DEEPEXPO_SD15_REPO", "deepexpo-tests/not-downloaded")
    with pytest.raises(AppError, match=r"deepexpo-tests/not-downloaded.*python -m deepexpo download sd15"):
        client.predict("a portrait in a garden", handle_file(files["astronaut.png"]),
                       handle_file(files["open_mouth.png"]), 0.8, 0.8, 7.5, 30, 0,
                       api_name="/generate")


def test_edit_endpoint_smiles(client, files, hopper, measure):
    names = ExpressionControls.names()
    values = [1.0 if name == "smile" else 0.0 for name in names]
    path = client.predict(handle_file(files["hopper.png"]), "warp", "none", 1.0, 1.0, *values,
                          api_name="/edit_image")
    out = read_image(path)
    assert out.shape == hopper.shape
    assert measure.features(out)["lift"] > measure.features(hopper)["lift"] + 0.025


def test_edit_video_endpoint_keeps_frames_and_audio(client, driving_video, driving_frames):
    values = [0.0] * len(ExpressionControls.names())
    path = client.predict(handle_file(str(driving_video)), None, "warp", "sad", 1.0, 0.0, *values,
                          api_name="/edit_video")
    info = probe_video(path)
    assert info.frame_count == len(driving_frames) and info.has_audio
