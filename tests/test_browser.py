"""End to end in a real browser: Debian's Chromium driven by Playwright against the app.

Chromium comes from the system (``.ci/run`` installs it with apt). Set
``DEEPEXPO_SCREENSHOT=assets/screenshot.jpg`` to refresh the README's screenshot.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
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


def _click_on_image(page, image, xy: tuple[float, float]) -> None:
    """Click ``image`` (an <img>) at ``xy`` in its own pixels, wherever the page shows it."""
    natural = image.evaluate("img => img.decode().then(() => [img.naturalWidth, "
                             "img.naturalHeight])")  # a new preview may still be loading
    box = image.bounding_box()
    scale = min(box["width"] / natural[0], box["height"] / natural[1])
    left = box["x"] + (box["width"] - natural[0] * scale) / 2
    top = box["y"] + (box["height"] - natural[1] * scale) / 2
    page.mouse.click(left + xy[0] * scale, top + xy[1] * scale)


def test_points_tool_places_a_dog_and_drives_it(page, outside_requests, tmp_path,
                                                open_mouth_driver):
    """A dog the detector misses: its dozen key points clicked as the guide asks, the rest
    estimated and the fitted mesh drawn, a point picked up and moved, the points saved and
    restored by upload, and the transfer opens the dog's mouth with them. Screenshots of each
    step: ``DEEPEXPO_POINTS_SHOTS``."""
    import json

    from deepexpo.face.points import KEY_POINTS, REQUIRED, estimate_missing
    from deepexpo.ui.points_draft import preview_scale

    from .conftest import shared_sample
    from .placed_faces import PLACED

    dog = shared_sample("sources/s30.jpg")
    placed = {name: PLACED["s30.jpg"][name] for name in KEY_POINTS}
    shots = Path(os.environ.get("DEEPEXPO_POINTS_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    tool = page.locator("#image-points")
    guide = page.locator("#image-points-guide")

    def shot(name: str) -> None:
        tool.scroll_into_view_if_needed()
        tool.screenshot(path=shots / f"points-{name}.png")

    def wait_guide(text: str) -> None:
        page.wait_for_function(
            "t => document.querySelector('#image-points-guide').innerText.includes(t)",
            arg=text, timeout=20_000)

    def saved_points() -> dict[str, list[float]]:
        """Save points, and the JSON file the page offers."""
        link = page.locator("#image-points-file a").first
        old = link.get_attribute("href") if link.is_visible() else ""
        page.locator("#image-points-save").click()
        page.wait_for_function(
            "old => { const a = document.querySelector('#image-points-file a');"
            " return a && a.href && a.getAttribute('href') != old; }", arg=old, timeout=20_000)
        return json.loads(page.request.get(link.get_attribute("href")).body())

    page.get_by_role("tab", name="Image → Image").click()
    write_image(tmp_path / "driving.png", open_mouth_driver)
    page.locator("#image-source input[type=file]").set_input_files(dog)
    page.locator("#image-driving input[type=file]").set_input_files(tmp_path / "driving.png")
    page.locator("#image-source img").wait_for()
    page.locator("#image-driving img").wait_for()
    page.locator("#image-run").click()  # no face found: the message says where the tool is
    message = page.get_by_text('open "Face points" below the photo')
    message.wait_for(timeout=30_000)
    assert "no face found in source image" in page.inner_text("body")
    page.screenshot(path=shots / "points-0-no-face.png")
    tool.get_by_text("Face points: place a face").click()
    preview = page.locator("#image-points-preview img")
    preview.wait_for(timeout=20_000)
    wait_guide("Next: left_eye_outer")
    shot("1-start")

    size = read_image(dog).shape[:2]
    scale = preview_scale(size)
    for count, (name, (x, y)) in enumerate(placed.items(), 1):
        assert name in guide.inner_text()
        _click_on_image(page, preview, (x * scale, y * scale))
        wait_guide(f"{count} of 12 points placed")
        if count == 6:
            shot("2-six-points")
    wait_guide("6 estimated, in yellow")
    wait_guide("Next: face_left")  # the optional points come last
    shot("3-all-points-mesh")

    # The chin picked up (a click near it) and moved 10 px down, then put back by Undo.
    chin = placed["chin"]
    _click_on_image(page, preview, (chin[0] * scale, chin[1] * scale))
    wait_guide("Moving: chin")
    shot("4-chin-picked-up")
    _click_on_image(page, preview, (chin[0] * scale, (chin[1] + 10) * scale))
    wait_guide("Next: face_left")
    assert saved_points()["chin"][1] == pytest.approx(chin[1] + 10, abs=1)
    before_undo = preview.get_attribute("src")
    page.locator("#image-points-undo").click()
    page.wait_for_function(
        "src => document.querySelector('#image-points-preview img').src != src",
        arg=before_undo, timeout=20_000)
    saved = saved_points()
    assert set(saved) == set(REQUIRED)
    for name, (x, y) in placed.items():  # a click lands within a preview pixel
        assert saved[name] == pytest.approx([x, y], abs=1 / scale + 0.1)
    for name, xy in estimate_missing({n: saved[n] for n in KEY_POINTS}).items():
        assert saved[name] == pytest.approx(xy, abs=0.2)  # the estimates, saved
    (tmp_path / "dog.json").write_text(json.dumps(saved))

    page.locator("#image-points-clear").click()
    wait_guide("0 of 12 points placed")
    with page.expect_file_chooser() as chooser:
        page.locator("#image-points-load").click()
    chooser.value.set_files(tmp_path / "dog.json")
    wait_guide("12 of 12 points placed")
    shot("5-restored")

    region = page.get_by_label("Region").first  # the dog keeps its head pose: a local change
    region.click()
    page.get_by_role("option", name="expression").click()
    result = page.locator("#image-result img")
    earlier = result.get_attribute("src") if result.count() else ""  # an earlier test's
    page.locator("#image-run").click()
    page.wait_for_function(
        "old => { const img = document.querySelector('#image-result img');"
        " return img && img.getAttribute('src') != old; }", arg=earlier, timeout=60_000)
    shown = tmp_path / "shown.png"
    shown.write_bytes(page.request.get(result.get_attribute("src")).body())
    page.screenshot(path=shots / "points-6-transfer.png", full_page=True)
    out, before = read_image(shown).astype(float), read_image(dog).astype(float)
    assert out.shape == before.shape
    change = np.abs(out - before).mean(axis=2)
    mouth = change[int(placed["mouth_top"][1]):int(placed["chin"][1]),
                   int(placed["mouth_left"][0]):int(placed["mouth_right"][0])]
    assert mouth.mean() > 10  # the mouth opened
    outside = np.ones_like(change, dtype=bool)
    outside[30:, 30:-30] = False  # the chin is near the bottom
    assert change[outside].mean() < 0.5  # the floor and the ears keep
    assert outside_requests == []


def test_points_tool_detect_prefills_the_editors_points(page, tmp_path, hopper):
    """In the editor's tool, Detect puts the detector's face as points to correct (the mesh
    drawn over it), and the editor's result follows them."""
    page.get_by_role("tab", name="Expression editor").click()
    write_image(tmp_path / "hopper.png", hopper)
    page.locator("#edit-source input[type=file]").set_input_files(tmp_path / "hopper.png")
    page.locator("#edit-source img").wait_for()
    page.locator("#edit-points").get_by_text("Face points: place a face").click()
    page.locator("#edit-points-preview img").wait_for(timeout=20_000)
    page.locator("#edit-points-detect").click()
    page.wait_for_function(
        "() => document.querySelector('#edit-points-guide').innerText.includes('12 of 12')",
        timeout=20_000)
    tool = page.locator("#edit-points")
    tool.scroll_into_view_if_needed()
    tool.screenshot(path=Path(os.environ.get("DEEPEXPO_POINTS_SHOTS", tmp_path))
                    / "points-7-detected.png")
    assert "All points placed" in page.locator("#edit-points-guide").inner_text()
    page.locator("#edit-result img").wait_for(timeout=30_000)  # rendered with the points


def _sliding_cartoon(folder: Path, frames: int) -> tuple[Path, dict]:
    """A drawn cartoon (no detector finds it) sliding right 5 px a frame, as ``cartoon.mp4``
    in ``folder``, and its points on the first frame (also written as ``cartoon.json``)."""
    import json

    import cv2

    from deepexpo.io.video import Mp4Writer

    from .test_placed_faces import drawn_cartoon

    image, points = drawn_cartoon(size=300)
    clip = folder / "cartoon.mp4"
    with Mp4Writer(clip, 10.0) as writer:
        for shift in range(0, 5 * frames, 5):
            writer.write(cv2.warpAffine(image, np.float32([[1, 0, shift], [0, 1, 0]]),
                                        (300, 300), borderMode=cv2.BORDER_REPLICATE))
    (folder / "cartoon.json").write_text(json.dumps(points))
    return clip, points


def test_points_tool_places_a_source_videos_face_and_several_faces(page, outside_requests,
                                                                   tmp_path, driving_video):
    """In the video tab, with a source video, the tool places on its first frame: a points
    file loaded, another face added and removed, and the reenactment drives the cartoon where
    it slides to."""
    from .conftest import read_frames

    clip, points = _sliding_cartoon(tmp_path, 6)
    shots = Path(os.environ.get("DEEPEXPO_POINTS_SHOTS", tmp_path))

    def wait_guide(js_test: str) -> None:
        page.wait_for_function(
            f"() => {{ const t = document.querySelector('#video-points-guide').innerText;"
            f" return {js_test}; }}", timeout=20_000)

    page.get_by_role("tab", name="Video reenactment").click()
    page.locator("#video-source-video input[type=file]").set_input_files(clip)
    page.locator("#video-source-video video").wait_for(timeout=20_000)
    tool = page.locator("#video-points")
    tool.get_by_text("Face points: place a face").click()
    preview = page.locator("#video-points-preview img")
    preview.wait_for(timeout=20_000)
    wait_guide("t.includes('0 of 12 points placed')")
    with page.expect_file_chooser() as chooser:
        page.locator("#video-points-load").click()
    chooser.value.set_files(tmp_path / "cartoon.json")
    wait_guide("t.includes('12 of 12 points placed')")
    shown = tmp_path / "preview.png"  # the video's first frame, at the preview's size
    shown.write_bytes(page.request.get(preview.get_attribute("src")).body())
    assert read_image(shown).shape[:2] == (768, 768)
    page.locator("#video-points-add").click()
    wait_guide("t.startsWith('Face 2 of 2') && t.includes('0 of 12 points placed')")
    tool.scroll_into_view_if_needed()
    tool.screenshot(path=shots / "points-8-second-face.png")
    page.locator("#video-points-remove").click()
    wait_guide("!t.includes('Face 2') && t.includes('12 of 12 points placed')")

    clear = page.locator("#video-driving button[aria-label='Clear']")
    if clear.count():  # the example's driver, from an earlier test
        clear.first.click()
    page.locator("#video-driving input[type=file]").set_input_files(driving_video)
    page.locator("#video-driving video").wait_for(timeout=20_000)
    result = page.locator("#video-result video")
    earlier = result.get_attribute("src") if result.count() else ""  # an earlier test's
    page.get_by_role("button", name="Reenact").click()
    page.wait_for_function(
        "old => { const v = document.querySelector('#video-result video');"
        " return v && v.getAttribute('src') != old; }", arg=earlier, timeout=120_000)
    out = tmp_path / "out.mp4"
    out.write_bytes(page.request.get(result.get_attribute("src")).body())
    frames, sources = read_frames(out), read_frames(clip)
    assert len(frames) == 6
    y, x = points["mouth_left"][1], points["nose_tip"][0] + 25  # where the mouth slid to
    mouth = (slice(y, y + 20), slice(x - 10, x + 10))
    result_panel = frames[5][:, -300:]  # the last one, where an example left side by side on
    assert np.abs(result_panel[mouth].astype(float) - sources[5][mouth]).mean() > 10
    assert outside_requests == []


def test_points_tool_places_a_videos_face_to_edit_in_the_editor(page, outside_requests,
                                                                 tmp_path):
    """The editor's "Apply to a video" has its own tool, on the video's first frame: a
    cartoon clip's points loaded there, and the blink control shuts its eyes in the edited
    video."""
    from .conftest import read_frames

    clip, points = _sliding_cartoon(tmp_path, 4)

    page.get_by_role("tab", name="Expression editor").click()
    page.get_by_text("Apply to a video").click()
    page.locator("#edit-video-source input[type=file]").set_input_files(clip)
    page.locator("#edit-video-source video").wait_for(timeout=20_000)
    tool = page.locator("#edit-video-points")
    tool.get_by_text("Face points: place a face").click()
    tool.locator("#edit-video-points-preview img").wait_for(timeout=20_000)
    with page.expect_file_chooser() as chooser:
        page.locator("#edit-video-points-load").click()
    chooser.value.set_files(tmp_path / "cartoon.json")
    page.wait_for_function(
        "() => document.querySelector('#edit-video-points-guide').innerText"
        ".includes('12 of 12 points placed')", timeout=20_000)
    tool.scroll_into_view_if_needed()
    tool.screenshot(path=Path(os.environ.get("DEEPEXPO_POINTS_SHOTS", tmp_path))
                    / "points-9-editor-video.png")
    assert "its own expression is not read" in tool.inner_text()  # what a video's tool follows
    blink = page.locator("#edit-blink input[type=number]")
    blink.fill("1")
    blink.press("Enter")
    page.locator("#edit-video-run").click()
    result = page.locator("#edit-video-result video")
    result.wait_for(timeout=120_000)
    out = tmp_path / "out.mp4"
    out.write_bytes(page.request.get(result.get_attribute("src")).body())
    frames, sources = read_frames(out), read_frames(clip)
    assert len(frames) == 4
    for side in ("left", "right"):  # the last frame's pupils, 15 px right, are shut away
        x = np.mean([points[f"{side}_eye_outer"][0], points[f"{side}_eye_inner"][0]]) + 15
        y = points[f"{side}_eye_outer"][1]
        box = (slice(y - 5, y + 12), slice(int(x) - 8, int(x) + 8))
        dark = [np.mean(picture[box].mean(axis=2) < 70) for picture in (sources[3], frames[3])]
        assert dark[0] > 0.3 and dark[1] < 0.3 * dark[0], (side, dark)
    assert outside_requests == []
