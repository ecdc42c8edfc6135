"""How interactive the expression editor is on this machine.

    python bench/edit_speed.py [--updates N]

Prints the milliseconds per slider update for a 512x512 photo (scikit-image's astronaut):
in the library (the source prepared once, then one edit per update, as the app does), and in
the app as a user sees it: Debian's Chromium (driven by Playwright) types a new value into the
smile slider and waits until the new result image has loaded. Target: <= 150 ms per update.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import median_p90  # noqa: E402
from deepexpo.io.images import write_image  # noqa: E402
from deepexpo.motion.controls import ExpressionControls, ExpressionEdit  # noqa: E402
from deepexpo.pipeline import TransferPipeline  # noqa: E402
from deepexpo.testing.chromium import CHROMIUM, launch_chromium  # noqa: E402
from deepexpo.ui import build_demo, launch  # noqa: E402

# Timed inside the page, so that Playwright's own round trips do not count: set the smile
# slider's number box as typing would, then wait for a result image with a new source to load.
UPDATE_MS = """async (value) => {
    const box = document.querySelector('#edit-smile input[type=number]');
    const old = document.querySelector('#edit-result img')?.src;
    const t0 = performance.now();
    box.value = value;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    box.dispatchEvent(new Event('change', {bubbles: true}));
    while (true) {
        const img = document.querySelector('#edit-result img');
        if (img && img.src !== old && img.complete && img.naturalWidth > 0) break;
        await new Promise(r => setTimeout(r, 1));
    }
    return performance.now() - t0;
}"""


def _random_values(rng: np.random.Generator) -> list[float]:
    return [float(rng.uniform(-20, 20) if name in ("pitch", "yaw", "roll") else rng.uniform(-1, 1))
            for name in ExpressionControls.names()]


def _report(what: str, times_s: list[float]) -> None:
    print(median_p90(what, times_s, "updates"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    photo = data.astronaut()

    pipeline = TransferPipeline("warp")
    faces = pipeline.prepare_faces(photo)
    names = ExpressionControls.names()
    times = []
    for _ in range(args.updates + 3):
        edit = ExpressionEdit(ExpressionControls(**dict(zip(names, _random_values(rng), strict=True))))
        start = time.perf_counter()
        faces.edit(edit)
        times.append(time.perf_counter() - start)
    _report("library, 512x512", times[3:])

    if not CHROMIUM.exists():
        print(f"app in a browser: skipped, {CHROMIUM} is not installed")
        return
    demo = build_demo()
    _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = Path(tmp) / "astronaut.png"
        write_image(path, photo)
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.get_by_role("tab", name="Expression editor").click()
        page.locator("#edit-source input[type=file]").set_input_files(path)
        result = page.locator("#edit-result img")
        result.wait_for()
        # Distinct values: a value equal to the last would change nothing to wait for.
        values = rng.permutation(np.linspace(-1.0, 1.0, args.updates + 3))
        times = [page.evaluate(UPDATE_MS, f"{v:.2f}") / 1000 for v in values]
        browser.close()
    demo.close()
    _report("app in Chromium (slider value set -> new result image loaded), 512x512", times[3:])

if __name__ == "__main__":
    main()
