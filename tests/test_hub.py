"""Downloads from a Hugging Face Hub served on 127.0.0.1 (deepexpo/testing/loopback_hub.py) holding tiny
models in the published layouts: what is fetched, once, and what a failure leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from deepexpo import hub
from deepexpo.errors import CheckpointError, ModelNotAvailableError
from deepexpo.neural.hub_models import LIVEPORTRAIT_FILES
from deepexpo.testing.loopback_hub import Fault

README = Path(__file__).resolve().parents[1] / "README.md"


def test_front_matter_preloads_exactly_the_files_hub_fetches():
    front = yaml.safe_load(README.read_text(encoding="utf-8").split("---")[1])
    preload = {}
    for entry in front["preload_from_hub"]:
        repo, files, *revision = entry.split()
        preload[repo] = (sorted(files.split(",")), revision[0] if revision else None)
    expected = {m.repo_id: (sorted(m.files), m.revision) for m in hub.MODELS.values()}
    assert preload == expected
    assert sorted(front["models"]) == sorted(expected)


def test_download_command_fetches_only_the_listed_files(loopback):
    proc = subprocess.run([sys.executable, "-m", "deepexpo", "download", "neural"],
                          capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert sorted(loopback.file_gets()) == sorted(hub.MODELS["neural"].files)
    assert Path(proc.stdout.strip()) == hub.MODELS["neural"].locate()


def test_concurrent_first_uses_download_once(loopback):
    found, errors = [], []

    def first_use() -> None:
        try:
            found.append(hub.require("neural", allow_download=True))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(set(found)) == 1
    assert sorted(loopback.file_gets()) == sorted(hub.MODELS["neural"].files)


@pytest.mark.parametrize("kind", ["status", "stall", "truncate"])
def test_a_failed_download_is_one_line_leaves_nothing_usable_and_the_next_try_works(loopback,
                                                                                   kind):
    loopback.faults.append(Fault("warping_module.pth", kind, times=8, seconds=3.0))
    with pytest.raises(ModelNotAvailableError, match="could not download the LivePortrait") as err:
        hub.require("neural", allow_download=True)
    assert "\n" not in str(err.value)
    assert hub.status("neural").state == "failed"
    assert hub.MODELS["neural"].locate() is None  # nothing half-downloaded is taken as the model
    loopback.faults.clear()
    folder = hub.require("neural", allow_download=True)
    assert hub.status("neural").state == "on disk"
    assert (folder / LIVEPORTRAIT_FILES["warping_module"]).stat().st_size == \
        (loopback.repos["KwaiVGI/LivePortrait"] / LIVEPORTRAIT_FILES["warping_module"]).stat().st_size


def test_offline_sends_nothing_and_says_what_is_missing(loopback, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("DEEPEXPO_AUTO_DOWNLOAD", "1")
    with pytest.raises(ModelNotAvailableError, match=r"neural engine needs the LivePortrait.*"
                                                     r"download neural.*HF_HUB_OFFLINE"):
        hub.require("neural")
    with pytest.raises(ModelNotAvailableError, match="HF_HUB_OFFLINE is set"):
        hub.download("sd15")
    assert loopback.requests == []


def test_auto_download_policy(monkeypatch):
    assert not hub.auto_download_allowed()
    monkeypatch.setenv("SPACE_ID", "someone/deepexpo")
    assert hub.auto_download_allowed()  # on by default on a Space ...
    monkeypatch.setenv("DEEPEXPO_AUTO_DOWNLOAD", "0")
    assert not hub.auto_download_allowed()  # ... unless switched off
    monkeypatch.delenv("SPACE_ID")
    monkeypatch.setenv("DEEPEXPO_AUTO_DOWNLOAD", "1")
    assert hub.auto_download_allowed()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not hub.auto_download_allowed()


def test_a_damaged_checkpoint_is_one_line_and_force_fetches_it_again(loopback):
    folder = hub.require("neural", allow_download=True)
    damaged = (folder / LIVEPORTRAIT_FILES["warping_module"]).resolve()
    damaged.write_bytes(damaged.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=r"warping_module.pth' of the LivePortrait networks "
                                              r"is damaged.*download neural --force") as err:
        hub.require("neural")
    assert "\n" not in str(err.value)
    hub.download("neural", force=True)
    assert hub.require("neural") == folder


@pytest.mark.timeout(60)
def test_an_unreachable_hub_fails_at_once_in_one_line(tmp_path):
    """No network (or a wrong ``HF_ENDPOINT``): before, 22 lines of retry warnings over 25 s
    and then the error; now the one line, in a second or two."""
    import socket
    import time

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**os.environ, "HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HOME": str(tmp_path)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "deepexpo", "download", "neural"],
                          capture_output=True, text=True, env=env, timeout=60)
    elapsed = time.perf_counter() - start
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: could not download the LivePortrait networks")
    assert f"cannot reach http://127.0.0.1:{port}" in lines[0]
    assert elapsed < 20  # the interpreter's start and imports; the failure itself is instant
    assert hub.status("neural").state == "not downloaded"  # another process's failure
