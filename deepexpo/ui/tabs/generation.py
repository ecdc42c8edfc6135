"""Text-prompted generation: the identity person from a prompt, with a reference's expression
and head pose."""

from __future__ import annotations

import gradio as gr

from ...engines import cuda_available
from ...fusion.speed import SETTINGS, SPEEDS, default_speed
from ..components import image_upload
from ..config import WORK_EVENT
from ..models_panel import generation_status
from .common import TabContext, TabParts

TITLE = "Text-prompted generation"


def _max_steps(speed: str) -> int:
    return min(100, SETTINGS[speed].max_steps)


def _speed_controls() -> tuple[gr.Radio, gr.Slider, gr.Slider, gr.Number]:
    """Speed (fast on a CPU, quality on a GPU, by default), guidance, steps and seed; choosing a
    speed sets its steps and guidance."""
    default = default_speed(cuda_available())
    with gr.Row():
        speed = gr.Radio(list(SPEEDS), value=default, label="Speed",
                         info="fast: LCM-LoRA, 4 steps, about a minute on a CPU; quality: "
                              "30 steps with guidance, a few seconds on a GPU")
        guidance = gr.Slider(1.0, 15.0, value=SETTINGS[default].guidance, step=0.5,
                             label="Guidance", info="1 turns it off (one U-Net pass a step)")
        steps = gr.Slider(1, _max_steps(default), value=SETTINGS[default].steps, step=1,
                          label="Steps")
        seed = gr.Number(0, precision=0, label="Seed")
    speed.change(lambda chosen: (SETTINGS[chosen].guidance, gr.update(
        value=SETTINGS[chosen].steps, maximum=_max_steps(chosen))), speed, [guidance, steps],
                 api_name=False, queue=False, show_progress="hidden")
    return speed, guidance, steps, seed


def build(context: TabContext) -> TabParts:
    handlers = context.handlers
    gr.Markdown("Generate new images of the identity person from a text prompt, with the "
                "expression and head pose of a reference image. The identity strength "
                "weighs the identity branch; the expression/pose strength weighs the "
                "semantic branch or the face ControlNet.")
    status = gr.Markdown(generation_status(), elem_id="generation-models")
    with gr.Row():
        prompt = gr.Textbox(label="Prompt", placeholder="a portrait photo of a person "
                            "in a garden, golden hour", scale=3)
        button = gr.Button("Generate", variant="primary", scale=1)
        stop = gr.Button("Stop", variant="stop", scale=0)
    with gr.Row():
        identity = image_upload("Identity image")
        reference = image_upload("Expression / pose reference")
        result = gr.Image(type="numpy", label="Result", format="png")
    with gr.Row():
        id_strength = gr.Slider(0.0, 1.5, value=0.8, step=0.05, label="Identity strength")
        sem_strength = gr.Slider(0.0, 1.5, value=0.8, step=0.05,
                                 label="Expression / pose strength")
    speed, guidance, steps, seed = _speed_controls()
    run = button.click(handlers.generate, [prompt, identity, reference, id_strength,
                                           sem_strength, guidance, steps, seed, speed], result,
                       api_name="generate", **WORK_EVENT)
    # The Stop button ends the running denoising loop (between steps) and frees the slot.
    stop.click(handlers.stop_generation, None, None, cancels=[run], api_name="stop_generation",
               queue=False)
    return TabParts(runs=[run], generation_status=status)
