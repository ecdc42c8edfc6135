"""Live: an identity photo following the visitor's webcam face (the handlers:
``ui/live.py``)."""

from __future__ import annotations

import gradio as gr

from ... import REGIONS
from ..components import image_upload, streamed_image, webcam_stream
from ..config import LIVE_TAB, LiveTabConfig
from ..live import LiveHandlers
from ..points_tool import points_tool
from .common import TabContext, TabParts

TITLE = "Live"


def build(context: TabContext, config: LiveTabConfig = LIVE_TAB) -> TabParts:
    """The tab's components and events; its visitors' sessions are its own."""
    examples = context.examples
    handlers = LiveHandlers(config)
    slots = "one visitor" if config.slots == 1 else f"{config.slots} visitors"
    gr.Markdown(f"Drive a photo with your webcam: start the webcam and the photo follows your "
                f"face as you move. It serves {slots} at a time, for up to "
                f"{config.session_s} s each while others wait. Relative: the photo moves from "
                f"its own expression by as much as you move from your first frame (or from the "
                f"frame after **Set neutral**).")
    with gr.Row():
        photo = image_upload("Identity photo", elem_id="live-source")
        width, height = config.webcam_size
        webcam = webcam_stream("Your webcam", elem_id="live-webcam",
                               webcam_options=gr.WebcamOptions(mirror=True, constraints={
                                   "video": {"width": {"ideal": width},
                                             "height": {"ideal": height}}}))
        result = streamed_image("Live result", elem_id="live-result")
    with gr.Row():
        region = gr.Dropdown(list(REGIONS), value="all", label="Region")
        strength = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Strength")
        relative = gr.Checkbox(True, label="Relative",
                               info="from your first frame; off: copy your expression as it is")
        mirror = gr.Checkbox(True, label="Mirror", info="the photo moves like your reflection")
        neutral = gr.Button("Set neutral", elem_id="live-neutral")
    status = gr.Markdown(elem_id="live-status")
    points = points_tool(photo, context.handlers.storage, "live")
    if examples is not None and examples.is_dir():
        gr.Examples([[str(examples / "astronaut.jpg")], [str(examples / "hopper.jpg")]], [photo])
    stream = webcam.stream(handlers.frame, [webcam, photo, region, strength, relative, mirror, points],
                           [result, status], stream_every=config.frame_interval_s,
                           concurrency_limit=config.streams, concurrency_id="live",
                           show_progress="hidden", api_name=False)
    stream.then(handlers.stop, None, None, api_name=False, queue=False)
    neutral.click(handlers.set_neutral, None, status, api_name=False, queue=False)
    return TabParts()
