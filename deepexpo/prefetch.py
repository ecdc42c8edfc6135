"""Running a producer ahead of its consumer on the other core.

A video's frames go through decoding and landmark detection, then warping and encoding. Each
stage spends most of its time in native code that releases the GIL (ffmpeg pipes, MediaPipe,
OpenCV, NumPy), so a thread that decodes and tracks the next frames while the caller renders
this one keeps both cores busy without a second process.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()


def prefetch(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """``items``, produced by a background thread up to ``depth`` ahead of the caller.

    An exception in the producer is raised here, at the item it failed on. When the caller
    stops early (``break``, an error, Ctrl-C), the producer stops too and ``items`` is closed
    in its own thread, so its cleanup (a tracker, an ffmpeg reader) still runs.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put((_END, exc))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        put((_END, None))

    worker = threading.Thread(target=produce, name="deepexpo-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = buffer.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5.0)
