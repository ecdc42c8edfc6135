"""How live the Live tab is on this machine.

    python bench/live_speed.py [--seconds N]

Debian's Chromium (driven by Playwright) streams a fake webcam to the app launched in-process:
a 640x480, 30 fps clip of Grace Hopper opening and closing her mouth (deepexpo/testing/fake_camera.py; the
page asks the camera for LIVE_TAB.webcam_size), driving the astronaut's 512x512 photo. Prints the
results shown per second and the latency from a webcam frame leaving the page to its result
loaded in the page (median and p90, and the median of each half: frames queueing would make
it grow; each result is paired with its own frame, deepexpo/testing/live_browser.py), how many frames
the page sent (those that arrive while one renders are dropped), the CPU time the app and
Chromium spent per result (Chromium's share on this machine is large: it renders the page
without a GPU), the server's time per result, and the library's time per frame alone.
Targets: at least 15 results a second, at most 150 ms median.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.cbook
import numpy as np
import psutil
from PIL import Image
from playwright.sync_api import sync_playwright
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import median_p90  # noqa: E402
from deepexpo import get_pipeline  # noqa: E402
from deepexpo.io.images import write_image  # noqa: E402
from deepexpo.live import LiveReenactor  # noqa: E402
from deepexpo.motion.compose import MotionOptions  # noqa: E402
from deepexpo.testing.chromium import CHROMIUM, launch_chromium  # noqa: E402
from deepexpo.testing.fake_camera import FPS, SIZE, fake_camera_args, make_clip  # noqa: E402
from deepexpo.testing.live_browser import LiveProbe, open_live_tab, start_webcam  # noqa: E402
from deepexpo.ui import build_demo, launch  # noqa: E402


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by this process (the app) and by Chromium (its processes)."""
    me = psutil.Process()
    used = {"app": sum(me.cpu_times()[:2]), "chromium": 0.0}
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in child.name():
                used["chromium"] += sum(child.cpu_times()[:2])
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to measure")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds streamed first")
    args = parser.parse_args()
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = np.asarray(Image.open(f).convert("RGB"))
    photo = data.astronaut()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "webcam.y4m"
        frames = make_clip(clip, hopper, get_pipeline("warp"))
        print(f"fake webcam: {SIZE[0]}x{SIZE[1]}, {FPS} fps (the page asks for less); photo "
              f"{photo.shape[1]}x{photo.shape[0]}")

        live = LiveReenactor(get_pipeline("warp"), photo)
        times = []
        for frame in frames * 2:
            start = time.perf_counter()
            live.drive(frame, MotionOptions(), flip=True)
            times.append(time.perf_counter() - start)
        live.close()
        print(median_p90("library, one frame (landmarks + render)", times[5:]))

        if not CHROMIUM.exists():
            print(f"app in a browser: skipped, {CHROMIUM} is not installed")
            return
        demo = build_demo()
        probe = LiveProbe(demo)
        _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
        write_image(Path(tmp) / "astronaut.png", photo)
        with sync_playwright() as p:
            browser = launch_chromium(p, fake_camera_args(clip))
            page = open_live_tab(browser, url, Path(tmp) / "astronaut.png")
            start_webcam(page)
            page.wait_for_timeout(args.warmup * 1000)
            size = page.evaluate("() => { const v = document.querySelector('#live-webcam video');"
                                 " return v.videoWidth + 'x' + v.videoHeight; }")
            before = probe.results(page)
            sent_before = page.evaluate("() => Object.keys(window.__live.sent).length")
            served_before = len(probe.server_s)
            cpu_before, _ = _cpu_seconds(), psutil.cpu_percent()
            page.wait_for_timeout(args.seconds * 1000)
            cpu = {k: v - cpu_before[k] for k, v in _cpu_seconds().items()}
            busy = psutil.cpu_percent()
            results = probe.results(page)[len(before):]
            sent = page.evaluate("() => Object.keys(window.__live.sent).length") - sent_before
            server = probe.server_s[served_before:]
            browser.close()
        demo.close()

    if len(results) < 2:
        print(f"app in Chromium: {len(results)} results in {args.seconds:.0f} s")
        return
    seconds = (results[-1].shown_ms - results[0].shown_ms) / 1000
    print(f"app in Chromium, {seconds:.1f} s measured, webcam frames sent at {size}:")
    print(f"  shown: {(len(results) - 1) / seconds:.1f} results per second at 512x512")
    print(f"  sent: {sent / args.seconds:.1f} webcam frames per second "
          f"({len(server)} rendered, the rest dropped)")
    print(f"  CPU per result shown: app {1000 * cpu['app'] / len(results):.0f} ms, Chromium "
          f"{1000 * cpu['chromium'] / len(results):.0f} ms (the machine was {busy:.0f}% busy, "
          f"other work included)")
    latency = [r.latency_ms / 1000 for r in results]
    print("  " + median_p90("latency, frame leaves the page -> its result loaded in it", latency))
    half = len(latency) // 2
    print(f"  latency median, first half then second half: "
          f"{1000 * statistics.median(latency[:half]):.0f} ms, "
          f"{1000 * statistics.median(latency[half:]):.0f} ms (frames queueing would make it grow)")
    print("  " + median_p90("server, frame read -> result encoded (decode, landmarks, render, "
                            "JPEG)", server))


if __name__ == "__main__":
    main()
