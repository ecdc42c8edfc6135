"""The app gets its pretrained models by itself: a Space-like machine (``SPACE_ID`` set, an empty
cache, the loopback Hub) fetches them on first use; elsewhere the Models panel's Download button
does. Called through gradio_client against the app in-process."""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from deepexpo import hub
from deepexpo.io.images import read_image, write_image
from deepexpo.neural.hub_models import LIVEPORTRAIT_FILES
from deepexpo.ui import build_demo, launch
from deepexpo.ui.handlers import Handlers
from deepexpo.ui.storage import AppStorage

GENERATION_MODELS = ("sd15", "ip-adapter", "controlnet-face", "lcm-lora", "taesd")  # fast on a CPU


@pytest.fixture
def photos(tmp_path, astronaut, open_mouth_driver) -> dict[str, str]:
    paths = {"source": tmp_path / "astronaut.png", "driving": tmp_path / "open.png"}
    write_image(paths["source"], astronaut)
    write_image(paths["driving"], open_mouth_driver)
    return {name: str(path) for name, path in paths.items()}


def _client(tmp_path: Path) -> tuple[Client, object]:
    demo = build_demo()
    _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    return Client(url, verbose=False, download_files=str(tmp_path / "downloads")), demo


def _transfer(client: Client, photos: dict[str, str], engine: str) -> str:
    return client.predict(handle_file(photos["source"]), handle_file(photos["driving"]), engine,
                          "all", False, 1.0, False, False, api_name="/transfer_image")


def _panel(client: Client) -> str:
    return client.predict(api_name="/model_status")[0]


def _row(table: str, name: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(f"| `{name}`"))


def test_on_a_space_the_first_use_downloads_what_it_needs(loopback, monkeypatch, tmp_path,
                                                          photos, astronaut):
    monkeypatch.setenv("SPACE_ID", "deepexpo/tests")
    client, demo = _client(tmp_path)
    try:
        assert loopback.requests == []  # starting the app asks the Hub nothing
        assert _row(_panel(client), "neural").endswith("not downloaded, fetched on first use |")

        start = time.perf_counter()
        out = read_image(_transfer(client, photos, "neural"))
        print(f"first neural result, download included: {time.perf_counter() - start:.1f} s")
        assert out.shape == astronaut.shape
        assert sorted(loopback.file_gets()) == sorted(hub.MODELS["neural"].files)
        assert _row(_panel(client), "neural").endswith("on disk |")

        loopback.requests.clear()
        path = client.predict("a portrait in a garden", handle_file(photos["source"]),
                              handle_file(photos["driving"]), 0.8, 0.8, 6.0, 2, 0,
                              api_name="/generate")
        assert read_image(path).shape == (32, 32, 3)
        fetched = [f for name in GENERATION_MODELS for f in hub.MODELS[name].files]
        assert sorted(loopback.file_gets()) == sorted(fetched)
        table, *_, generation = client.predict(api_name="/model_status")
        assert all(_row(table, name).endswith("on disk |") for name in GENERATION_MODELS)
        assert "Base model: ready" in generation and "Identity: IP-Adapter" in generation
    finally:
        demo.close()


def test_elsewhere_the_download_button_fetches_and_the_engine_works_without_restart(
        loopback, tmp_path, photos, astronaut):
    client, demo = _client(tmp_path)
    try:
        with pytest.raises(AppError, match=r"neural engine needs .*download neural"):
            _transfer(client, photos, "neural")
        assert loopback.requests == []
        table, *infos, _ = client.predict(api_name="/download_neural")
        assert sorted(loopback.file_gets()) == sorted(hub.MODELS["neural"].files)
        assert _row(table, "neural").endswith("on disk |")
        assert all("neural: on disk" in info["info"] for info in infos)
        assert read_image(_transfer(client, photos, "neural")).shape == astronaut.shape
    finally:
        demo.close()


def test_a_failed_download_shows_in_the_panel(loopback, monkeypatch, tmp_path):
    from deepexpo.testing.loopback_hub import Fault

    loopback.faults.append(Fault("model_index.json", "status", times=8))
    client, demo = _client(tmp_path)
    try:
        table, *engines, _ = client.predict(api_name="/download_sd15")  # not an error
        assert "failed: " in _row(table, "sd15") and "500" in _row(table, "sd15")
        assert all(engine["__type__"] == "update" for engine in engines)
        assert "failed: " in _row(_panel(client), "sd15")
    finally:
        demo.close()


@pytest.mark.timeout(60)
def test_an_unreachable_hub_fails_the_download_at_once_and_every_page_sees_it(
        monkeypatch, tmp_path):
    """Before: about 24 s of "processing" (the Hub client's retries), then an error that put
    an "Error" badge in place of the engine choices, and a new page still said "not
    downloaded"."""
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed.getsockname()[1]}")
    monkeypatch.setattr(hub, "_failures", {})
    client, demo = _client(tmp_path)
    try:
        start = time.perf_counter()
        job = client.submit(api_name="/download_neural")
        table, *engines, _ = job.result(timeout=30)
        assert time.perf_counter() - start < 5
        assert "failed: cannot reach http://127.0.0.1:" in _row(table, "neural")
        assert all("neural: failed: cannot reach" in engine["info"] for engine in engines)
        # A page opened now reads the state when it loads, not as the app was built.
        load = next(fn for fn in demo.fns.values() if any(
            trigger[1] == "load" for trigger in fn.targets))
        assert "failed: cannot reach" in load.fn()[0]
    finally:
        demo.close()


def test_zerogpu_runs_neural_work_inside_spaces_gpu(monkeypatch, tiny_weights, photos):
    """With the ``spaces`` package importable, neural work runs inside ``spaces.GPU`` with a
    duration estimated from the work; warp work does not ask for a GPU."""
    calls: list[tuple[str, float]] = []

    def gpu(duration):  # spaces.GPU(duration=...)
        def wrap(fn):
            def run(*args):
                calls.append((fn.__name__, duration(*args)))
                return fn(*args)
            return run
        return wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    monkeypatch.setenv("DEEPEXPO_NEURAL_WEIGHTS", tiny_weights)
    handlers = Handlers(AppStorage())
    handlers.transfer_image(photos["source"], photos["driving"], "warp", "all", False, 1.0,
                            False, False)
    assert calls == []
    handlers.transfer_image(photos["source"], photos["driving"], "neural", "all", False, 1.0,
                            False, False)
    assert [name for name, _ in calls] == ["_transfer_image_work"] and 0 < calls[0][1] <= 600


def test_the_download_button_repairs_a_damaged_model(loopback, tmp_path):
    folder = hub.require("neural", allow_download=True)
    damaged = (folder / LIVEPORTRAIT_FILES["spade_generator"]).resolve()
    damaged.write_bytes(damaged.read_bytes()[:500])
    client, demo = _client(tmp_path)
    try:
        loopback.requests.clear()
        table, *_ = client.predict(api_name="/download_neural")
        assert _row(table, "neural").endswith("on disk |")
        assert sorted(loopback.file_gets()) == sorted(hub.MODELS["neural"].files)
        hub.require("neural")  # whole again
    finally:
        demo.close()
