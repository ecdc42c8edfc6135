"""Time from a visitor's first click to the first result when the app must fetch the neural
engine's weights first, as on a fresh Space: full-size LivePortrait files (random weights, the
published layout and sizes) served by deepexpo.testing's loopback Hub on 127.0.0.1, an empty
cache, ``SPACE_ID`` set, the app in-process and called through gradio_client.

    python bench/first_use.py

Prints the download time, the first result's time (download + loading + one frame) and a
second click's time. Needs the test requirements (gradio_client, skimage).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from gradio_client import Client, handle_file
from skimage import data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deepexpo import hub  # noqa: E402
from deepexpo.io.images import write_image  # noqa: E402
from deepexpo.neural.checkpoints import LivePortraitNetworks  # noqa: E402
from deepexpo.neural.hub_models import LIVEPORTRAIT_FILES  # noqa: E402
from deepexpo.neural.network_config import NeuralConfig  # noqa: E402
from deepexpo.testing.loopback_hub import LoopbackHub, LoopbackServer  # noqa: E402
from deepexpo.testing.tiny_liveportrait import published_state  # noqa: E402
from deepexpo.ui import build_demo, launch  # noqa: E402


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="deepexpo-first-use-"))
    repo, flat = work / "repo", work / "flat"
    flat.mkdir(parents=True)
    torch.manual_seed(0)
    published_state(LivePortraitNetworks(NeuralConfig.from_yaml()).eval(), flat)
    for network, rel in LIVEPORTRAIT_FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (flat / f"{network}.pth").rename(repo / rel)
    size = sum(p.stat().st_size for p in repo.rglob("*.pth")) / 2**20
    photo, driver = work / "astronaut.png", work / "driver.png"
    write_image(photo, data.astronaut())
    write_image(driver, data.astronaut()[:, ::-1])

    state = LoopbackHub()
    state.add_repo(hub.MODELS["neural"].repo_id, repo)
    with LoopbackServer(state) as served:
        os.environ.update(HF_ENDPOINT=served.url, HF_HOME=str(work / "hf-home"),
                          SPACE_ID="deepexpo/bench")
        demo = build_demo()
        _, url, _ = launch(demo, server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
        client = Client(url, verbose=False, download_files=str(work / "downloads"))
        args = (handle_file(str(photo)), handle_file(str(driver)), "neural", "all", False, 1.0,
                False, False)
        try:
            start = time.perf_counter()
            client.predict(*args, api_name="/transfer_image")
            first = time.perf_counter() - start
            start = time.perf_counter()
            client.predict(*args, api_name="/transfer_image")
            second = time.perf_counter() - start
        finally:
            demo.close()
    files = len(state.file_gets())
    print(f"neural weights: {files} files, {size:.0f} MB over the loopback Hub")
    print(f"first click to first result (download, load, one frame): {first:.1f} s")
    print(f"second click (weights on disk and loaded): {second:.1f} s")


if __name__ == "__main__":
    main()
