"""A shared app can require a password: ``--auth`` and ``DEEPEXPO_AUTH``, on the app as a user
starts it; and it says when it is open to others without one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from deepexpo.ui.access import exposure_warning

APP = Path(__file__).resolve().parents[1] / "app.py"
PORT = 7881


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.mark.timeout(180)
def test_the_app_asks_for_a_login_given_on_the_command_line_or_in_the_environment(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "DEEPEXPO_AUTH": "carol:s3cret:with-colon"}
    proc = subprocess.Popen([sys.executable, str(APP), "--port", str(PORT), "--auth", "alice:pw1",
                             "--auth", "bob:pw2"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{PORT}/"
    try:
        _wait_for(url, proc)
        config = httpx.get(f"{url}config", timeout=10)
        assert config.status_code == 401 and config.json()["detail"]["error"] == "Not authenticated"
        # Without a login: no work, no files.
        assert httpx.post(f"{url}gradio_api/queue/join", json={}, timeout=10).status_code == 401
        refused = httpx.post(f"{url}login", data={"username": "alice", "password": "wrong"},
                             timeout=10)
        assert refused.status_code == 400
        for user, password in (("alice", "pw1"), ("bob", "pw2"), ("carol", "s3cret:with-colon")):
            client = Client(url, auth=(user, password), verbose=False,
                            download_files=str(tmp_path / "downloads"))
            table = client.predict(api_name="/model_status")[0]
            assert "| `neural` |" in table
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    stderr = proc.stderr.read()
    assert "without a password" not in stderr  # protected, and on this machine only


def test_a_login_without_a_password_is_refused_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, str(APP), "--auth", "alice"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].endswith("'alice': give a login as USER:PASS")


def test_an_app_open_to_others_without_a_password_says_so(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    assert exposure_warning(None, share=False, protected=False) is None
    assert exposure_warning("127.0.0.1", share=False, protected=False) is None
    assert "public gradio.live link without a password" in exposure_warning(
        None, share=True, protected=False)
    assert "listens on 0.0.0.0, beyond this machine, without a password" in exposure_warning(
        "0.0.0.0", share=False, protected=False)
    assert exposure_warning("0.0.0.0", share=True, protected=True) is None
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")  # the Dockerfile's, a Space's
    assert exposure_warning(None, share=False, protected=False) is not None
    monkeypatch.setenv("SPACE_ID", "someone/deepexpo")  # its visibility setting decides
    assert exposure_warning(None, share=False, protected=False) is None
