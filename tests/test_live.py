"""The Live tab in a real browser: Chromium's fake webcam plays a clip of Grace Hopper opening
and closing her mouth (made by the warp engine from her bundled photo), and the astronaut's
photo must follow it. Every result is paired with the webcam frame it came from
(deepexpo/testing/live_browser.py), so the mouths are compared frame by frame. ``pytest -k live``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from deepexpo import get_pipeline
from deepexpo.io.images import write_image
from deepexpo.testing.chromium import CHROMIUM, launch_chromium
from deepexpo.testing.fake_camera import fake_camera_args, make_clip
from deepexpo.testing.live_browser import (
    LiveProbe,
    open_live_tab,
    sent_frame,
    shown_image,
    start_webcam,
    stop_webcam,
    wait_for_a_result,
)
from deepexpo.ui import build_demo, launch
from deepexpo.ui.config import LIVE_TAB as LIVE

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"
#: How long the first test watches the stream: three periods of the clip's mouth.
WATCH_S = 6.0

if not CHROMIUM.exists():
    if os.environ.get("DEEPEXPO_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing; install Debian's chromium package")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright import sync_api  # noqa: E402  (a test requirement; only Chromium may be missing)


@pytest.fixture(scope="module")
def live_app() -> tuple[str, LiveProbe]:
    demo = build_demo(EXAMPLES)
    probe = LiveProbe(demo)
    _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        yield url, probe
    finally:
        demo.close()


@pytest.fixture(scope="module")
def photo(tmp_path_factory, astronaut) -> Path:
    return write_image(tmp_path_factory.mktemp("live") / "astronaut.png", astronaut)


@pytest.fixture(scope="module")
def browser(tmp_path_factory, hopper):
    clip = tmp_path_factory.mktemp("camera") / "webcam.y4m"
    make_clip(clip, hopper, get_pipeline("warp"))
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p, fake_camera_args(clip))
        yield browser
        browser.close()


def test_live_result_follows_the_webcam_mouth(live_app, browser, photo, measure):
    url, probe = live_app
    page = open_live_tab(browser, url, photo)
    # Absolute: the photo's mouth copies the webcam's as it is, whichever frame came first.
    page.get_by_label("Relative").uncheck()
    start_webcam(page)
    wait_for_a_result(page)
    first = len(probe.results(page))
    page.wait_for_timeout(WATCH_S * 1000)
    results = probe.results(page)[first:]
    stop_webcam(page)
    images = [shown_image(page, r) for r in results]
    webcam = [sent_frame(page, r.frame) for r in results]
    page.context.close()

    assert len(results) >= 8, "results stopped arriving"
    seconds = (results[-1].shown_ms - results[0].shown_ms) / 1000
    print(f"live: {(len(results) - 1) / seconds:.1f} fps "
          f"(median latency {np.median([r.latency_ms for r in results]):.0f} ms)")
    assert all(im.shape == (512, 512, 3) for im in images)
    # Pixels that change clearly (not JPEG noise) from one result to the next.
    changed = [(np.abs(a.astype(int) - b).max(axis=2) > 40).sum()
               for a, b in zip(images, images[1:])]
    assert max(changed) > 200, "the result does not change over time"
    # Each result has a face (measuring one raises otherwise), with the mouth of the webcam
    # frame it came from.
    mouths = np.array([measure.mouth(im) for im in images])
    webcam = np.array([measure.mouth(frame) for frame in webcam])
    opened = webcam > 0.15
    assert opened.any() and (~opened).any(), "the fake webcam showed one mouth only"
    assert mouths[opened].mean() > mouths[~opened].mean() + 0.1
    assert np.corrcoef(webcam, mouths)[0, 1] > 0.7


def test_live_serves_one_visitor_at_a_time(live_app, browser, photo):
    """The next visitor is told they are next; when the first stops, their stream starts."""
    url, _ = live_app
    first, second = (open_live_tab(browser, url, photo) for _ in range(2))
    start_webcam(first)
    wait_for_a_result(first)
    first.get_by_role("button", name="Set neutral").click()
    sync_api.expect(first.locator("#live-status")).to_contain_text("the neutral you set")

    start_webcam(second)
    status = second.locator("#live-status")
    sync_api.expect(status).to_contain_text("The live view is busy", timeout=30_000)
    assert f"for up to {LIVE.session_s} s each. You are next" in status.inner_text()
    assert second.evaluate("() => window.__live.shown.length") == 0

    stop_webcam(first)
    wait_for_a_result(second)
    sync_api.expect(status).to_contain_text("from your first frame")
    for page in (first, second):
        page.context.close()
