"""Image → Image: a photo driven by a driving photo."""

from __future__ import annotations

import gradio as gr

from ..components import image_upload
from ..config import WORK_EVENT
from ..points_tool import points_tool
from .common import TabContext, TabParts, face_picker, motion_controls, work_examples

TITLE = "Image → Image"


def build(context: TabContext) -> TabParts:
    handlers = context.handlers
    with gr.Row():
        src = image_upload("Identity image", elem_id="image-source")
        drv = image_upload("Driving image", elem_id="image-driving")
        out = gr.Image(type="numpy", label="Result", format="png", elem_id="image-result")
    face, _ = face_picker(src, handlers)
    points = points_tool(src, handlers.storage, "image")
    controls = motion_controls()
    run = gr.Button("Transfer", variant="primary", elem_id="image-run").click(
        handlers.transfer_image, [src, drv, *controls, face, points], out, api_name="transfer_image",
        **WORK_EVENT)
    work_examples(context.examples, [
        ["astronaut.jpg", "driver_open_mouth.jpg", "warp", "all", False, 1.0, False, False],
        ["hopper.jpg", "driver_turned.jpg", "warp", "pose", False, 1.0, False, True],
        ["astronaut.jpg", "driver_open_mouth.jpg", "warp", "lips", False, 1.5, False, True],
    ], [src, drv, *controls], handlers.transfer_image, out)
    return TabParts(engines=[controls[0]], runs=[run])
