"""Debian's Chromium, as the browser tests and the benchmarks launch it with Playwright.

Playwright never downloads a browser here: it drives ``/usr/bin/chromium`` (apt package
``chromium``). As root in a closed network: no sandbox, and none of Chromium's own background
connections.
"""

from collections.abc import Sequence
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def launch_chromium(playwright, extra_args: Sequence[str] = ()):
    """A headless Debian Chromium from a started ``sync_playwright()``, with ``extra_args``
    (a fake webcam's, say)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=[*CHROMIUM_ARGS, *extra_args])
