"""Video reenactment: a photo, or a whole source video, driven by a driving video."""

from __future__ import annotations

import gradio as gr

from ..components import image_upload
from ..config import WORK_EVENT
from ..points_tool import video_points_tool
from .common import TabContext, TabParts, face_picker, motion_controls, work_examples

TITLE = "Video reenactment"


def build(context: TabContext) -> TabParts:
    handlers = context.handlers
    gr.Markdown("Drive a photo, or a whole source video, with a driving video. With a "
                "source video, each frame keeps what the region does not drive: "
                "`expression` keeps its head motion, `pose` its expression and lips.")
    with gr.Row():
        source = image_upload("Identity image")
        source_video = gr.Video(label="…or a source video", elem_id="video-source-video")
        driving = gr.Video(label="Driving video", elem_id="video-driving")
        out = gr.Video(label="Result", elem_id="video-result")
    face, _ = face_picker(source, handlers)
    points = video_points_tool(source_video, handlers.storage, "video", source)
    controls = motion_controls()
    inputs = [source, driving, *controls, source_video]
    run = gr.Button("Reenact", variant="primary").click(
        handlers.transfer_video, [*inputs, face, points], out, api_name="transfer_video", **WORK_EVENT)
    work_examples(context.examples, [
        ["astronaut.jpg", "driver_talking.mp4", "warp", "all", False, 1.0, False, True, None],
        ["hopper.jpg", "driver_talking.mp4", "warp", "expression", False, 1.0, False, False,
         None],
    ], inputs, handlers.transfer_video, out)
    return TabParts(engines=[controls[0]], runs=[run])
