"""The app's temporary files, in one folder of its own: Gradio's uploads and cache, and our
results. Pruned while the app runs (by age, then oldest first down to a total size, so uploads
without a job cannot fill the disk) and removed when the app stops, by Ctrl-C or SIGTERM."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from ..config import APP_STORAGE, StorageLimits

logger = logging.getLogger(__name__)


class AppStorage:
    """Created before the app's components (they read ``GRADIO_TEMP_DIR`` when made)."""

    def __init__(self, limits: StorageLimits = APP_STORAGE):
        self.limits = limits
        self.root = Path(tempfile.mkdtemp(prefix="deepexpo-app-"))
        self.uploads = self.root / "gradio"
        self.results = self.root / "results"
        self.results.mkdir()
        os.environ["GRADIO_TEMP_DIR"] = str(self.uploads)
        atexit.register(self.remove)
        self._stop = threading.Event()
        threading.Thread(target=self._janitor, name="deepexpo-storage", daemon=True).start()

    def new_result(self, suffix: str) -> Path:
        """A fresh result path: each request's result is its own file, so identical results
        requested at once never share (and rewrite) one file."""
        return self.results / f"{uuid.uuid4().hex}{suffix}"

    def prune(self) -> None:
        """Delete files older than the age limit, then the oldest until under the size limit."""
        now = time.time()
        files = []
        for path in self.root.rglob("*"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if not path.is_file():
                continue
            if now - stat.st_mtime > self.limits.max_age_s:
                path.unlink(missing_ok=True)
            else:
                files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files, key=lambda f: f[0]):
            if total <= self.limits.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size

    def _janitor(self) -> None:
        while not self._stop.wait(self.limits.prune_every_s):
            try:
                self.prune()
            except OSError as exc:  # a file removed under our feet; try again next round
                logger.debug("pruning %s: %s", self.root, exc)

    def remove(self) -> None:
        self._stop.set()
        shutil.rmtree(self.root, ignore_errors=True)


def exit_on_sigterm() -> None:
    """SIGTERM (``docker stop``, a Space restarting) exits like Ctrl-C, so the temporary
    folders are removed (``atexit``). Only the main thread can set a signal handler."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
