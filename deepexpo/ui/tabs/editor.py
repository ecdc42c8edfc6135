"""Expression editor: a photo's expression dialled by hand or by an emotion preset, live; the
same settings applied to a video."""

from __future__ import annotations

import math
from itertools import groupby

import gradio as gr

from ... import EMOTIONS, ExpressionControls
from ..components import image_upload
from ..config import WORK_EVENT
from ..handlers import NO_EMOTION
from ..models_panel import engine_choice
from ..points_tool import points_tool, video_points_tool
from .common import TabContext, TabParts, face_picker

TITLE = "Expression editor"
#: At most this many expression controls per row of sliders, the rows as even as they go (rows
#: of five left the eleventh alone, stretched across); the head's rotations get a row of their own.
ROW = 5


def _rows() -> list[tuple[str, ...]]:
    """:meth:`ExpressionControls.names` in rows, in their order: the order the edit endpoints
    take their values in (see ``ui/handlers.py``'s ``_edit_settings``)."""
    rows: list[tuple[str, ...]] = []
    # Degrees (the head's rotations) have a slider range beyond 1; expressions are about -1..1.
    for _, group in groupby(ExpressionControls.names(),
                            lambda name: ExpressionControls.slider_range(name)[1] > 1):
        names = tuple(group)
        size = math.ceil(len(names) / math.ceil(len(names) / ROW))
        rows += [names[i:i + size] for i in range(0, len(names), size)]
    return rows


def control_sliders() -> list[gr.Slider]:
    """A slider per expression control, made from its metadata (range, help)."""
    sliders = []
    for row in _rows():
        with gr.Row():
            for name in row:
                low, high = ExpressionControls.slider_range(name)
                sliders.append(gr.Slider(low, high, value=0.0, step=(high - low) / 100,
                                         label=name.replace("_", " "),
                                         info=ExpressionControls.describe(name),
                                         elem_id=f"edit-{name}"))
    return sliders


def build(context: TabContext) -> TabParts:
    handlers, examples = context.handlers, context.examples
    gr.Markdown("Dial an expression by hand or pick an emotion: the result follows the sliders. "
                "Apply the same settings to a video to change its emotion while the head motion "
                "and the lips (speech) stay as they are.")
    with gr.Row():
        photo = image_upload("Photo", elem_id="edit-source")
        result = gr.Image(type="numpy", label="Edited", format="jpeg", elem_id="edit-result")
    face, found = face_picker(photo, handlers)
    points = points_tool(photo, handlers.storage, "edit")
    with gr.Row():
        engine = engine_choice()
        emotion = gr.Dropdown([NO_EMOTION, *EMOTIONS], value=NO_EMOTION, label="Emotion")
        intensity = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Intensity")
        keep = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="Keep source expression",
                         info="1: add to the photo's own expression; 0: start from neutral")
    sliders = control_sliders()
    reset = gr.Button("Reset controls")
    settings = [engine, emotion, intensity, keep, *sliders]
    live = dict(fn=handlers.edit_live, inputs=[photo, face, points, *settings], outputs=result,
                api_name=False, trigger_mode="always_last", show_progress="hidden", queue=False)
    # One listener for every control: a burst of changes (dragging, reset) renders once more
    # after the one in flight, not once per change.
    # Each update takes milliseconds: it skips the queue, whose round trip would double the
    # time a slider takes to show its effect. A new photo renders once its faces are found.
    gr.on([c.change for c in (face, points, *settings)], **live)
    found.then(**live)
    gr.Button("Edit", variant="primary").click(handlers.edit_image,
                                               [photo, face, points, *settings], result,
                                               api_name="edit_image", **WORK_EVENT)
    # An emotion replaces the photo's own expression unless told to keep it.
    emotion.input(lambda e: 1.0 if e == NO_EMOTION else 0.0, emotion, keep, api_name=False)
    reset.click(lambda: [0.0] * len(sliders), None, sliders, api_name=False)
    if examples is not None and examples.is_dir():
        gr.Examples([[str(examples / "astronaut.jpg")], [str(examples / "hopper.jpg")]], [photo])
    with gr.Accordion("Apply to a video", open=False):
        with gr.Row():
            video = gr.Video(label="Video to edit", elem_id="edit-video-source")
            reference = gr.Video(label="Expression reference clip (optional)")
            video_out = gr.Video(label="Edited video", elem_id="edit-video-result")
        video_points = video_points_tool(video, handlers.storage, "edit-video")
        gr.Button("Edit video", variant="primary", elem_id="edit-video-run").click(
            handlers.edit_video, [video, reference, video_points, *settings], video_out,
            api_name="edit_video", **WORK_EVENT)
    return TabParts(engines=[engine])
