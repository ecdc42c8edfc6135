"""The Gradio app, called the way a remote user calls it: gradio_client against the app launched
in-process on 127.0.0.1. Results are checked on pixels with the project's landmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import gradio as gr
import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from skimage import data

from deepexpo.io.images import read_image, write_image
from deepexpo.io.video import Mp4Writer, probe_video
from deepexpo.motion.controls import ExpressionControls
from deepexpo.ui import build_demo, launch
from deepexpo.ui.config import APP_CONCURRENCY, APP_LIMITS, StorageLimits
from deepexpo.ui.handlers import Handlers
from deepexpo.ui.storage import AppStorage

from .conftest import FPS, png_header_only, read_frames

APP = Path(__file__).resolve().parents[1] / "app.py"
EXAMPLES = APP.parent / "assets" / "examples"
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


def test_generation_names_every_missing_model_at_once(client, files):
    # On a CPU the tab's speed is fast: its LoRA and tiny autoencoder are named with the rest.
    with pytest.raises(AppError, match=r"needs 5 models that are not downloaded, ~7.8 GB in all: "
                                       r".*download sd15.*download ip-adapter.*download "
                                       r"controlnet-face.*download lcm-lora.*download taesd"):
        client.predict("a portrait in a garden", handle_file(files["astronaut.png"]),
                       handle_file(files["open_mouth.png"]), 0.8, 0.8, 7.5, 30, 0,
                       api_name="/generate")
    status = client.predict(api_name="/model_status")[-1]
    assert "needs 3 models that are not downloaded, ~7.6 GB in all" in status


def test_edit_endpoint_smiles(client, files, hopper, measure):
    names = ExpressionControls.names()
    values = [1.0 if name == "smile" else 0.0 for name in names]
    path = client.predict(handle_file(files["hopper.png"]), "largest", "warp", "none", 1.0, 1.0,
                          *values, api_name="/edit_image")
    out = read_image(path)
    assert out.shape == hopper.shape
    assert measure.features(out)["lift"] > measure.features(hopper)["lift"] + 0.025


def test_edit_video_endpoint_keeps_frames_and_audio(client, driving_video, driving_frames):
    values = [0.0] * len(ExpressionControls.names())
    path = client.predict(handle_file(str(driving_video)), None, "warp", "sad", 1.0, 0.0, *values,
                          api_name="/edit_video")
    info = probe_video(path)
    assert info.frame_count == len(driving_frames) and info.has_audio


# --- several faces --------------------------------------------------------------------------

def _halves(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two portraits of ``two_faces``: the astronaut (face 0) and Hopper (face 1)."""
    return np.ascontiguousarray(image[:, :240]), np.ascontiguousarray(image[:, 240:])


def test_an_upload_shows_its_faces_numbered_for_the_choice(tmp_path, two_faces, files,
                                                           monkeypatch):
    # A second storage points Gradio's uploads elsewhere: the app under test keeps its own.
    monkeypatch.setenv("GRADIO_TEMP_DIR", os.environ["GRADIO_TEMP_DIR"])
    handlers = Handlers(AppStorage())
    preview, choice = handlers.find_faces(str(write_image(tmp_path / "pair.png", two_faces)))
    assert preview["visible"] and choice["visible"]
    assert choice["choices"] == ["largest", "all", "0", "1"] and choice["value"] == "largest"
    assert preview["value"].shape == two_faces.shape
    assert not np.array_equal(preview["value"], two_faces)  # boxed and numbered
    preview, choice = handlers.find_faces(files["hopper.png"])  # one face: nothing to choose
    assert not preview["visible"] and not choice["visible"]


def test_image_endpoint_accepts_the_face_choice(client, files, two_faces, measure, tmp_path):
    pair = str(write_image(tmp_path / "pair.png", two_faces))
    path = client.predict(handle_file(pair), handle_file(files["open_mouth.png"]), *DEFAULTS,
                          False, "1", api_name="/transfer_image")
    (left, right), (left_before, right_before) = _halves(read_image(path)), _halves(two_faces)
    assert np.array_equal(left, left_before)
    assert measure.mouth(right) > measure.mouth(right_before) + 0.1
    with pytest.raises(AppError, match=r"face 5 was asked for, but 2 faces were found in source "
                                       r"image \(0 to 1, left to right\)"):
        client.predict(handle_file(pair), handle_file(files["open_mouth.png"]), *DEFAULTS,
                       False, "5", api_name="/transfer_image")


def test_editor_endpoint_edits_the_chosen_face(client, two_faces, measure, tmp_path):
    values = [1.0 if name == "aaa" else 0.0 for name in ExpressionControls.names()]
    path = client.predict(handle_file(str(write_image(tmp_path / "pair.png", two_faces))), "0",
                          "warp", "none", 1.0, 1.0, *values, api_name="/edit_image")
    (left, right), (left_before, right_before) = _halves(read_image(path)), _halves(two_faces)
    assert np.array_equal(right, right_before)
    assert measure.mouth(left) > measure.mouth(left_before) + 0.04


# --- nothing bypassed, nothing lost (the app side) -----------------------------------------

def test_direct_rest_calls_are_refused_so_work_waits_in_the_queue(client):
    response = httpx.post(f"{client.src.rstrip('/')}/gradio_api/run/transfer_image",
                          json={"data": [None, None, *DEFAULTS, False]})
    assert response.status_code == 404 and "join the queue" in response.text


def test_identical_concurrent_requests_all_download_whole(client, files, hopper):
    jobs = [client.submit(handle_file(files["hopper.png"]), handle_file(files["open_mouth.png"]),
                          *DEFAULTS, False, api_name="/transfer_image") for _ in range(12)]
    outputs = [read_image(job.result(timeout=120)) for job in jobs]
    assert all(out.shape == hopper.shape for out in outputs)
    assert all(np.array_equal(out, outputs[0]) for out in outputs)


def test_a_decompression_bomb_upload_is_one_line(client, files, tmp_path):
    bomb = png_header_only(tmp_path / "bomb.png", 30000, 30000)
    with pytest.raises(AppError, match="has 900,000,000 pixels; the limit is 40 megapixels"):
        _image(client, str(bomb), files["open_mouth.png"])


def test_the_live_editor_is_bounded(tmp_path, astronaut):
    """Off the queue, the sliders render a preview no larger than ``live_max_side``, at most
    ``APP_CONCURRENCY.live`` at once; a change that finds them busy is dropped."""
    big = write_image(tmp_path / "big.png", cv2.resize(astronaut, (2048, 2048)))
    handlers = Handlers(AppStorage())
    values = [0.0] * len(ExpressionControls.names())
    preview = read_image(handlers.edit_live(str(big), "largest", None, "warp", "happy", 1.0, 0.0,
                                            *values))
    assert max(preview.shape[:2]) == APP_CONCURRENCY.live_max_side
    for _ in range(APP_CONCURRENCY.live):
        handlers._live.acquire()
    assert isinstance(handlers.edit_live(str(big), "largest", None, "warp", "happy", 1.0, 0.0,
                                         *values), type(gr.skip()))


def test_storage_prunes_by_age_and_size(tmp_path):
    storage = AppStorage(StorageLimits(max_age_s=60, max_bytes=250, prune_every_s=3600))
    try:
        old, a, b, c = (storage.new_result(f".{n}") for n in ("old", "a", "b", "c"))
        for i, path in enumerate((old, a, b, c)):
            path.write_bytes(b"x" * 100)
            os.utime(path, (time.time() - [120, 30, 20, 10][i],) * 2)
        storage.prune()
        assert [p.exists() for p in (old, a, b, c)] == [False, False, True, True]
    finally:
        storage.remove()
    assert not storage.root.exists()


def test_sigterm_removes_the_apps_temporary_files(tmp_path, files):
    port = 17863
    env = {**os.environ, "TMPDIR": str(tmp_path), "GRADIO_SERVER_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, str(APP), "--host", "127.0.0.1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        app = Client(url, verbose=False, download_files=str(tmp_path / "downloads"))
        app.predict(handle_file(files["hopper.png"]), handle_file(files["open_mouth.png"]),
                    *DEFAULTS, False, api_name="/transfer_image")
        folders = list(tmp_path.glob("deepexpo-app-*"))
        assert len(folders) == 1 and sum(1 for p in folders[0].rglob("*") if p.is_file()) >= 3
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert list(tmp_path.glob("deepexpo-app-*")) == []


def test_errors_name_files_never_the_servers_paths(tmp_path):
    """A file gone from the app's temporary folder (pruned, say): the visitor is told its
    name, not where the server keeps it."""
    storage = AppStorage(parent=tmp_path)
    try:
        gone = storage.uploads / "3f2a9c" / "my photo.png"
        with pytest.raises(gr.Error) as error:
            Handlers(storage).transfer_image(str(gone), str(gone), *DEFAULTS, False)
        assert error.value.message == "file not found: 'my photo.png'"
    finally:
        storage.remove()
