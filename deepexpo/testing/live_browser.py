"""The Live tab in Chromium, for the live test and the live benchmark: open it, start the
webcam, and see which webcam frame each result came from and when each left and came back.

In the page, an init script numbers every webcam frame the stream sends (in the frame's
``orig_name``, which Gradio ignores for an inline image) and notes when it left, keeps the
frame, and notes when each result image has loaded. In the app (launched in-process), the
webcam and result components are wrapped to note which result each frame became: frames
of one stream are rendered one at a time, so the frame read last is the one a result is made
from (so pair results while one stream runs).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import gradio as gr
import numpy as np

INIT_SCRIPT = """(() => {
    const live = window.__live = {sent: {}, shown: [], images: {}};
    const key = (url) => url.length + ':' + url.slice(-48);
    let seq = 0;
    const send = window.fetch;
    window.fetch = function (url, init) {
        // The frame is the first data URL of the body ({"fn_index":..,"data":[{"url":..}, ..]):
        // named by inserting a key before it, without parsing the body again.
        const at = init && init.method === 'POST' && /\\/stream\\/[^/]+$/.test(String(url))
            ? init.body.indexOf('{"url":"data:') : -1;
        if (at >= 0) {
            const start = at + 8, end = init.body.indexOf('"', start);
            live.sent[++seq] = {t: performance.now(), url: init.body.slice(start, end)};
            init = {...init, body: init.body.slice(0, at + 1) + '"orig_name":"frame-' + seq
                    + '",' + init.body.slice(at + 1)};
        }
        return send.call(this, url, init);
    };
    document.addEventListener('load', (event) => {
        const img = event.target;
        if (img.tagName === 'IMG' && img.closest('#live-result')) {
            live.shown.push({t: performance.now(), key: key(img.src)});
            live.images[key(img.src)] = img.src;
        }
    }, true);
})();"""


@dataclass(frozen=True)
class LiveResult:
    """One result the page showed: the frame it came from, and the result's name."""

    frame: int
    sent_ms: float  # page clock: when its frame left
    shown_ms: float  # page clock: when the result image had loaded
    key: str

    @property
    def latency_ms(self) -> float:
        return self.shown_ms - self.sent_ms


def _key(url: str) -> str:
    """A result's name, as the page's script names it: its data URL's length and end."""
    return f"{len(url)}:{url[-48:]}"


def _by_elem_id(demo: gr.Blocks, elem_id: str) -> gr.Image:
    return next(block for block in demo.blocks.values()
                if getattr(block, "elem_id", None) == elem_id)


class LiveProbe:
    """Wraps the Live tab's webcam and result components of ``demo`` (before launch)."""

    def __init__(self, demo: gr.Blocks):
        # A result (by its data URL) -> the frames it was made from.
        self.frames_of: dict[str, list[int]] = {}
        self._frame: int | None = None
        self._read_at = 0.0
        self.server_s: list[float] = []  # per result: from its frame read to its JPEG encoded
        webcam, result = _by_elem_id(demo, "live-webcam"), _by_elem_id(demo, "live-result")
        read, write = webcam.preprocess, result.postprocess

        def preprocess(payload: Any) -> Any:
            name = getattr(payload, "orig_name", None) or ""
            self._frame = int(name[6:]) if name.startswith("frame-") else None
            self._read_at = time.perf_counter()
            return read(payload)

        def postprocess(value: Any) -> Any:
            data = write(value)
            if data is not None and self._frame is not None:
                self.frames_of.setdefault(_key(data.url), []).append(self._frame)
                self.server_s.append(time.perf_counter() - self._read_at)
            return data

        webcam.preprocess, result.postprocess = preprocess, postprocess

    def results(self, page: Any) -> list[LiveResult]:
        """Every result the page has shown so far whose frame is known, in order."""
        live = page.evaluate("() => ({shown: window.__live.shown, "
                             "sent: Object.fromEntries(Object.entries(window.__live.sent)"
                             ".map(([k, v]) => [k, v.t]))})")
        sent = {int(frame): t for frame, t in live["sent"].items()}
        out = []
        for shown in live["shown"]:
            # A result identical to an earlier one has the same data URL: take the latest frame
            # that had left before it was shown.
            frames = [f for f in self.frames_of.get(shown["key"], [])
                      if sent.get(f, float("inf")) < shown["t"]]
            if frames:
                out.append(LiveResult(frames[-1], sent[frames[-1]], shown["t"], shown["key"]))
        return out


def _decode(data_url: str) -> np.ndarray:
    data = np.frombuffer(base64.b64decode(data_url.split(",", 1)[1]), np.uint8)
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def sent_frame(page: Any, frame: int) -> np.ndarray:
    """The webcam frame ``frame`` as it left the page, RGB."""
    return _decode(page.evaluate("(n) => window.__live.sent[n].url", frame))


def shown_image(page: Any, result: LiveResult) -> np.ndarray:
    """The result image the page showed, RGB."""
    return _decode(page.evaluate("(key) => window.__live.images[key]", result.key))


def open_live_tab(browser: Any, url: str, photo: Path) -> Any:
    """A new visitor (a browser context of its own, camera allowed) on the Live tab with
    ``photo`` as the identity photo."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  permissions=["camera"])
    page = context.new_page()
    page.add_init_script(INIT_SCRIPT)
    page.goto(url)
    page.get_by_role("tab", name="Live").click()
    page.locator("#live-source input[type=file]").set_input_files(photo)
    page.locator("#live-source img").wait_for()
    return page


def start_webcam(page: Any) -> None:
    """Start streaming the webcam (allowing it first, the first time)."""
    webcam = page.locator("#live-webcam")
    access = webcam.get_by_text("Click to Access Webcam")
    if access.is_visible():
        access.click()
    webcam.get_by_role("button", name="capture photo").get_by_text("Record").click()


def wait_for_a_result(page: Any, timeout_s: float = 60.0) -> None:
    """Until the page shows a live result."""
    page.wait_for_function("() => window.__live.shown.length > 0", timeout=timeout_s * 1000)


def stop_webcam(page: Any) -> None:
    page.locator("#live-webcam").get_by_text("Stop").click()
