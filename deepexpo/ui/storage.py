"""The app's temporary files, in one folder of its own: Gradio's uploads and cache, and our
results. Bounded in size when an upload arrives (the oldest files make room, or the upload is
refused) and pruned by age while the app runs; removed when the app stops, by Ctrl-C or
SIGTERM, and, after a crash or ``kill -9``, by the next app that starts. The app's own files
(its examples) are served where they are, never copied here, so pruning cannot break them."""

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

import anyio
from filelock import FileLock, Timeout
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import APP_LIMITS, APP_STORAGE, StorageLimits

logger = logging.getLogger(__name__)

PREFIX = "deepexpo-app-"
#: Held (an OS file lock) by the running app that owns the folder: the OS lets it go when that
#: process ends in any way, so a folder whose lock can be taken belongs to no running app.
OWNER_LOCK = "owner.lock"


def remove_abandoned(parent: Path) -> list[Path]:
    """Remove the folders under ``parent`` that earlier apps left behind (a crash, ``kill
    -9``, the OOM killer); those of running apps, which hold their lock, stay."""
    removed = []
    for folder in parent.glob(f"{PREFIX}*"):
        lock = folder / OWNER_LOCK
        if not lock.is_file():  # being created now, or not ours to judge
            continue
        owner = FileLock(lock, timeout=0, thread_local=False)
        try:
            owner.acquire()
        except (Timeout, OSError):
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            owner.release()
    if removed:
        logger.info("removed %d temporary folder(s) left by an app that is no longer running",
                    len(removed))
    return removed


class AppStorage:
    """Created before the app's components (they read ``GRADIO_TEMP_DIR`` when made)."""

    def __init__(self, limits: StorageLimits = APP_STORAGE, parent: Path | None = None):
        self.limits = limits
        parent = Path(parent or tempfile.gettempdir())
        remove_abandoned(parent)
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        self._owner = FileLock(self.root / OWNER_LOCK, thread_local=False)
        self._owner.acquire()
        self.uploads = self.root / "gradio"
        self.results = self.root / "results"
        self.results.mkdir()
        os.environ["GRADIO_TEMP_DIR"] = str(self.uploads)
        self._room = threading.Lock()
        self._reserved = 0  # bytes of uploads arriving now
        atexit.register(self.remove)
        self._stop = threading.Event()
        threading.Thread(target=self._janitor, name="deepexpo-storage", daemon=True).start()

    def new_result(self, suffix: str) -> Path:
        """A fresh result path: each request's result is its own file, so identical results
        requested at once never share (and rewrite) one file."""
        return self.results / f"{uuid.uuid4().hex}{suffix}"

    def _files(self) -> list[tuple[float, int, Path]]:
        """(modified, size, path) of every upload and result, oldest first."""
        files = []
        for folder in (self.uploads, self.results):
            for path in folder.rglob("*"):
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                if path.is_file():
                    files.append((stat.st_mtime, stat.st_size, path))
        return sorted(files, key=lambda f: f[0])

    def prune(self) -> None:
        """Delete files older than the age limit, then the oldest until under the size limit."""
        with self._room:
            self._fit(0, min_age_s=0.0)

    def _fit(self, incoming: int, min_age_s: float) -> bool:
        """Delete what is too old, then the oldest files (none younger than ``min_age_s``)
        until ``incoming`` more bytes fit under the size limit; whether they do."""
        now = time.time()
        kept = []
        for mtime, size, path in self._files():
            if now - mtime > self.limits.max_age_s:
                path.unlink(missing_ok=True)
            else:
                kept.append((mtime, size, path))
        total = sum(size for _, size, _ in kept) + self._reserved
        for mtime, size, path in kept:
            if total + incoming <= self.limits.max_bytes or now - mtime < min_age_s:
                break
            path.unlink(missing_ok=True)
            total -= size
        return total + incoming <= self.limits.max_bytes

    def reserve(self, size: int) -> bool:
        """Room for an upload of ``size`` bytes, made now: files older than
        ``limits.keep_recent_s`` are deleted, oldest first, as needed; ``False`` when even
        then it would not fit (the storage is full of files in use)."""
        with self._room:
            if not self._fit(size, min_age_s=self.limits.keep_recent_s):
                return False
            self._reserved += size
            return True

    def release(self, size: int) -> None:
        """The upload of ``size`` bytes has ended: it is on disk now, or gone."""
        with self._room:
            self._reserved -= size

    def _janitor(self) -> None:
        while not self._stop.wait(self.limits.prune_every_s):
            try:
                self.prune()
            except OSError as exc:  # a file removed under our feet; try again next round
                logger.debug("pruning %s: %s", self.root, exc)

    def remove(self) -> None:
        self._stop.set()
        shutil.rmtree(self.root, ignore_errors=True)
        self._owner.release()


class UploadRoom:
    """ASGI middleware: an upload is let in only once :meth:`AppStorage.reserve` made room for
    it (its ``Content-Length``; without one, the largest upload allowed), so uploads arriving
    together never take the storage past its limit; one that does not fit is refused with 413
    and a line that says why."""

    def __init__(self, app: ASGIApp, storage: AppStorage) -> None:
        self.app, self.storage = app, storage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"].rstrip("/").endswith("/upload")):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        size = int(length) if length.isdigit() else APP_LIMITS.max_file_bytes
        if not await anyio.to_thread.run_sync(self.storage.reserve, size):
            refusal = PlainTextResponse(
                "The app's storage for uploads is full with files in use; try again in a few "
                "minutes.", status_code=413)
            await refusal(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.storage.release(size)


def exit_on_sigterm() -> None:
    """SIGTERM (``docker stop``, a Space restarting) exits like Ctrl-C, so the temporary
    folders are removed (``atexit``). Only the main thread can set a signal handler."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
