"""End to end in a real browser: Debian's Chromium driven by Playwright against the app.

Chromium comes from the system (``.ci/run`` installs it with apt). Set
``DEEPEXPO_SCREENSHOT=assets/screenshot.jpg`` to refresh the README's screenshot.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from deepexpo import hub
from deepexpo.io.images import read_image, write_image
from deepexpo.io.video import probe_video
from deepexpo.testing.chromium import CHROMIUM, launch_chromium
from deepexpo.ui import build_demo, launch

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"

if not CHROMIUM.exists():
    if os.environ.get("DEEPEXPO_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing; install Debian's chromium package")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright import sync_api  # noqa: E402  (a test requirement; only Chromium may be missing)


@pytest.fixture(scope="module")
def app_url() -> str:
    demo = build_demo(EXAMPLES)
    _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def outside_requests() -> list[str]:
    """Requests the page made to anywhere but the app: the app must work offline."""
    return []


@pytest.fixture(scope="module")
def page(app_url, outside_requests):
    def record(request) -> None:
        if urlparse(request.url).scheme in ("http", "https", "ws", "wss") and \
                urlparse(request.url).hostname not in ("127.0.0.1", "localhost"):
            outside_requests.append(request.url)

    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", record)
        page.goto(app_url)
        yield page
        browser.close()


def test_upload_two_images_and_transfer(page, outside_requests, tmp_path, hopper, open_mouth_driver, measure):
    write_image(tmp_path / "identity.png", hopper)
    write_image(tmp_path / "driving.png", open_mouth_driver)
    page.locator("#image-source input[type=file]").set_input_files(tmp_path / "identity.png")
    page.locator("#image-driving input[type=file]").set_input_files(tmp_path / "driving.png")
    page.locator("#image-source img").wait_for()
    page.locator("#image-driving img").wait_for()
    page.locator("#image-run").click()
    result = page.locator("#image-result img")
    result.wait_for(timeout=60_000)
    screenshot = Path(os.environ.get("DEEPEXPO_SCREENSHOT", tmp_path / "screenshot.png"))
    page.screenshot(path=screenshot, full_page=True)

    # The image the browser shows is the identity with the driver's open mouth.
    src = result.get_attribute("src")
    shown = tmp_path / "shown.png"
    shown.write_bytes(page.request.get(src).body())
    out = read_image(shown)
    assert out.shape == hopper.shape
    assert measure.mouth(out) > measure.mouth(hopper) + 0.1
    assert outside_requests == []


def test_video_example_runs_on_click(page, outside_requests, tmp_path, astronaut):
    """The first example of the video tab: the astronaut following the talking clip, side by
    side with her photo and the driver."""
    page.get_by_role("tab", name="Video reenactment").click()
    page.locator("[data-testid=dataset-cell-0-0]").filter(visible=True).click()
    video = page.locator("#video-result video")
    video.wait_for(timeout=120_000)
    path = tmp_path / "shown.mp4"
    path.write_bytes(page.request.get(video.get_attribute("src")).body())
    info = probe_video(path)
    driver = probe_video(EXAMPLES / "driver_talking.mp4")
    assert info.frame_count == driver.frame_count and info.fps == pytest.approx(driver.fps)
    assert info.size[1] == astronaut.shape[0] and info.size[0] > 2.5 * astronaut.shape[1]
    assert outside_requests == []


def test_models_panel_lists_the_hub_models(page, outside_requests, tmp_path):
    """The Models accordion shows each Hub model with its state; nothing is fetched to show it."""
    page.get_by_role("tab", name="Image → Image").click()
    page.get_by_role("button", name="Models").first.click()
    table = page.locator("#models-table")
    table.wait_for()
    text = table.inner_text()
    for model in hub.MODELS.values():
        assert model.repo_id in text
    assert text.count("not downloaded") == len(hub.MODELS)
    assert page.get_by_role("button", name="Download neural (~523 MB)").is_visible()
    table.scroll_into_view_if_needed()
    page.screenshot(path=os.environ.get("DEEPEXPO_MODELS_SCREENSHOT", tmp_path / "models.png"))
    assert outside_requests == []


def test_a_failed_download_shows_at_once_and_on_pages_opened_later(page, monkeypatch):
    """An unreachable Hub: the table says "failed: why" within seconds (before: about 24 s of
    "processing"), the engine choice stays a working dropdown (before: an "Error" badge in its
    place), and a page opened afterwards shows the failure (before: "not downloaded")."""
    import socket
    import time

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed.getsockname()[1]}")
    monkeypatch.setattr(hub, "_failures", {})
    page.get_by_role("tab", name="Image → Image").click()
    table = page.locator("#models-table")
    if not table.is_visible():
        page.get_by_role("button", name="Models").first.click()
    start = time.perf_counter()
    page.get_by_role("button", name="Download neural (~523 MB)").click()
    page.wait_for_function(
        "document.querySelector('#models-table').innerText.includes('failed: cannot reach')",
        timeout=10_000)
    assert time.perf_counter() - start < 8
    engine = page.get_by_label("Engine").first
    assert engine.is_visible() and "failed: cannot reach" in page.inner_text("body")
    engine.click()
    page.get_by_role("option", name="warp").click()
    assert engine.input_value() == "warp"
    fresh = page.context.browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        fresh.goto(page.url)
        fresh.get_by_role("button", name="Models").first.click()
        fresh.wait_for_function(
            "document.querySelector('#models-table').innerText.includes('failed: cannot reach')",
            timeout=30_000)
    finally:
        fresh.close()
