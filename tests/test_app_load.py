"""The app under load, started as a user starts it: many video jobs at once all finish."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from deepexpo.io.images import write_image
from deepexpo.io.video import probe_video
from deepexpo.ui.config import APP_CONCURRENCY

APP = Path(__file__).resolve().parents[1] / "app.py"
PORT = 7886


@pytest.mark.timeout(420)
def test_a_full_queue_of_video_jobs_all_finish(tmp_path, astronaut, driving_video):
    """The issue: 18 video transfers queued from one client, 6 finished, then nothing ever
    again (both job threads deadlocked in OpenBLAS). The app runs with one BLAS thread here
    as a user's shell would set it; the library's own bound is tested in the library's tests.
    As many jobs as the queue holds, so none is refused: 18 are its 16 and the 2 running,
    and on a busy machine the last two came before the first two started ("Queue is full")."""
    photo = write_image(tmp_path / "astronaut.png", astronaut)
    env = {**os.environ, "TMPDIR": str(tmp_path), "OPENBLAS_NUM_THREADS": "1"}
    app = subprocess.Popen([sys.executable, str(APP), "--port", str(PORT)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{PORT}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert app.poll() is None and time.monotonic() < deadline
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        client = Client(url, verbose=False, download_files=str(tmp_path / "downloads"))
        jobs = [client.submit(handle_file(str(photo)), handle_file(str(driving_video)), "warp",
                              "all", False, 1.0, False, False, None, api_name="/transfer_video")
                for _ in range(APP_CONCURRENCY.queue)]
        start = time.monotonic()
        outputs = [job.result(timeout=max(300 - (time.monotonic() - start), 1)) for job in jobs]
        print(f"{len(jobs)} video jobs in {time.monotonic() - start:.0f} s")
        expected = probe_video(driving_video).frame_count
        assert all(probe_video(out["video"] if isinstance(out, dict) else out).frame_count
                   == expected for out in outputs)
    finally:
        app.kill()
        app.wait(timeout=30)
