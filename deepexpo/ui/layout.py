"""The Gradio app's layout: its tabs (``ui/tabs/``, one module each) and the Models panel,
within one queue. It only wires components to the handlers: no model code here."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from .access import Credentials, exposure_warning
from .config import APP_CONCURRENCY, APP_LIMITS, APP_STORAGE, StorageLimits
from .handlers import Handlers
from .models_panel import models_panel
from .storage import AppStorage, UploadRoom, exit_on_sigterm
from .tabs import TABS
from .tabs.common import TabContext

logger = logging.getLogger(__name__)

DESCRIPTION = """# DeepExPo
Transfer facial expression and head pose onto a photo while keeping who the person is.
Upload an **identity image** (whose face to keep) and a **driving image or video** (whose
expression and head pose to copy), or click an example. The built-in warp engine runs offline on
a CPU; the neural engine and text-prompted generation use pretrained models from the Hugging Face
Hub (see **Models** below). Videos up to {seconds:.0f} s and {side} px."""


def build_demo(examples: Path | None = None,
               storage_limits: StorageLimits = APP_STORAGE) -> gr.Blocks:
    """The app; ``examples`` is the folder of example files (``assets/examples``). Reads the
    disk to show which models are there; never touches the network."""
    storage = AppStorage(storage_limits)  # before any component: they read its upload folder
    if examples is not None and examples.is_dir():
        # Served where they are: a copy in the storage folder would be pruned under the page.
        gr.set_static_paths([examples])
    handlers = Handlers(storage)
    context = TabContext(examples, handlers)
    with gr.Blocks(title="DeepExPo", analytics_enabled=False) as demo:
        gr.Markdown(DESCRIPTION.format(seconds=APP_LIMITS.max_video_seconds,
                                       side=APP_LIMITS.max_video_side))
        parts = []
        for tab in TABS:
            with gr.Tab(tab.TITLE):
                parts.append(tab.build(context))
        generation = next(p.generation_status for p in parts if p.generation_status is not None)
        models_panel(demo, [engine for p in parts for engine in p.engines], generation,
                     [run for p in parts for run in p.runs])
        demo.unload(handlers.stop_generation)  # a closed tab's generation stops too
    # api_open=False: the direct REST routes are closed, so every request waits in the queue.
    demo.queue(default_concurrency_limit=1, max_size=APP_CONCURRENCY.queue, api_open=False)
    demo.storage = storage  # for launch's upload check
    return demo


def launch(demo: gr.Blocks, auth: Credentials | None = None,
           **kwargs: Any) -> tuple[Any, str, str | None]:
    """Launch with the app's upload limits, behind a login page when given ``auth`` (said in
    one line when it is open to others without one); no paths beyond Gradio's own and the
    examples are served. SIGTERM stops it as Ctrl-C does, removing its temporary files."""
    exit_on_sigterm()
    warning = exposure_warning(kwargs.get("server_name"), bool(kwargs.get("share")), bool(auth))
    if warning:
        logger.warning(warning)
    return demo.launch(max_file_size=APP_LIMITS.max_file_bytes, auth=auth or None,
                       auth_message="DeepExPo: log in with the user name and password you "
                                    "were given." if auth else None,
                       app_kwargs={"middleware": [Middleware(UploadRoom, storage=demo.storage)]},
                       **kwargs)
