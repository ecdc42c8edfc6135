"""The app's temporary storage: the examples outlive pruning, uploads never take it past its
size limit, and a crashed app's folder is removed by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from deepexpo.ui import build_demo, launch
from deepexpo.ui.config import StorageLimits
from deepexpo.ui.storage import AppStorage

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"


def _file_urls(config: dict) -> list[str]:
    """Every file URL the page is given (the examples' files among them)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("url"), str) and "/file=" in node["url"]:
                found.append(node["url"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def test_the_examples_still_load_after_their_age_has_passed():
    """The storage is pruned by age (15 minutes by default): the examples must not be."""
    demo = build_demo(EXAMPLES, StorageLimits(max_age_s=0.0, prune_every_s=3600))
    _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        time.sleep(0.05)
        demo.storage.prune()  # as the janitor does once the examples are "old"
        config = httpx.get(f"{url}config", timeout=30).json()
        urls = _file_urls(config)
        names = {u.rsplit("/", 1)[-1] for u in urls}
        assert {"astronaut.jpg", "hopper.jpg", "driver_talking.mp4"} <= names
        for file_url in urls:
            full = file_url if file_url.startswith("http") else url.rstrip("/") + file_url
            assert httpx.get(full, timeout=30).status_code == 200, file_url
    finally:
        demo.close()
        demo.storage.remove()


def _uploads(url: str, count: int, size: int) -> list[httpx.Response]:
    def upload(i: int) -> httpx.Response:
        return httpx.post(f"{url}gradio_api/upload", timeout=60,
                          files={"files": (f"f{i}.bin", os.urandom(size))})

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(upload, range(count)))


def _sampled_peak(folder: Path, stop: threading.Event, peak: list[int]) -> None:
    """The most bytes seen on disk at once. Files are told apart by inode: an upload renamed
    into the cache while the folders are walked would otherwise be counted twice (seen in its
    temporary folder, then in the cache), as happened once under load."""
    while not stop.is_set():
        sizes: dict[tuple[int, int], int] = {}
        for path in folder.rglob("*"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                sizes[(stat.st_dev, stat.st_ino)] = stat.st_size
        peak[0] = max(peak[0], sum(sizes.values()))
        time.sleep(0.005)


@pytest.mark.timeout(120)
def test_uploads_arriving_together_never_exceed_the_storage_limit():
    """50 uploads at once against a cap of 10 of them (the issue: 50 x 50 MB reached 2.57 GB
    against 2 GB, checked once a minute). Recent files are in use: the rest are refused."""
    cap, size = 1_000_000, 100_000
    demo = build_demo(None, StorageLimits(max_bytes=cap, prune_every_s=3600))
    _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_sampled_peak, args=(demo.storage.root, stop, peak))
    sampler.start()
    try:
        responses = _uploads(url, 50, size)
        stop.set()
        sampler.join()
        accepted = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code == 413]
        assert len(accepted) + len(refused) == 50
        assert 5 <= len(accepted) <= cap // size
        assert all("storage for uploads is full" in r.text for r in refused)
        assert peak[0] <= cap
    finally:
        stop.set()
        demo.close()
        demo.storage.remove()


def test_old_uploads_make_room_for_new_ones(tmp_path):
    storage = AppStorage(StorageLimits(max_bytes=250, keep_recent_s=60, prune_every_s=3600),
                         parent=tmp_path)
    try:
        old, recent = storage.new_result(".old"), storage.new_result(".recent")
        for path, age in ((old, 120), (recent, 10)):
            path.write_bytes(b"x" * 100)
            os.utime(path, (time.time() - age,) * 2)
        assert storage.reserve(100)  # the old file goes
        assert not old.exists() and recent.exists()
        assert not storage.reserve(100)  # 100 recent + 100 arriving + 100 > 250
        storage.release(100)
        assert storage.reserve(100)
    finally:
        storage.remove()


_HOLD_STORAGE = """
import sys, time
from pathlib import Path
from deepexpo.ui.storage import AppStorage
storage = AppStorage(parent=Path(sys.argv[1]))
(storage.results / "job.partial.mp4").write_bytes(b"x" * 1000)
print(storage.root, flush=True)
time.sleep(600)
"""


def _app_holding_storage(parent: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_STORAGE, str(parent)],
                            stdout=subprocess.PIPE, text=True)
    return proc, Path(proc.stdout.readline().strip())


@pytest.mark.timeout(120)
def test_a_restarted_app_removes_what_a_killed_one_left(tmp_path):
    """``kill -9`` (or the OOM killer) runs no cleanup: the next app removes the folder, and
    leaves those of apps still running."""
    killed, killed_root = _app_holding_storage(tmp_path)
    running, running_root = _app_holding_storage(tmp_path)
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        assert (killed_root / "results" / "job.partial.mp4").exists()
        storage = AppStorage(parent=tmp_path)
        try:
            assert not killed_root.exists()
            assert (running_root / "results" / "job.partial.mp4").exists()
            assert storage.root.exists()
        finally:
            storage.remove()
    finally:
        for proc in (killed, running):
            proc.kill()
            proc.wait(timeout=30)
    assert sorted(p.name for p in tmp_path.iterdir()) == [running_root.name]
