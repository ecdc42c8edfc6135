"""The Gradio app. It only wires components to library calls: no model code here."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import numpy as np

from . import MotionOptions, get_pipeline
from .errors import DeepExPoError
from .face.canonical import REGIONS

MAX_FILE_SIZE = "50mb"


def _options(region: str, absolute: bool, strength: float, adapt_scale: bool) -> MotionOptions:
    return MotionOptions(region=region, relative=not absolute, strength=float(strength),
                         adapt_scale=adapt_scale)


def transfer_image(source: np.ndarray | None, driving: np.ndarray | None, region: str,
                   absolute: bool, strength: float, adapt_scale: bool,
                   show_inputs: bool) -> np.ndarray:
    if source is None or driving is None:
        raise gr.Error("Upload an identity image and a driving image.")
    try:
        return get_pipeline("warp").transfer_image(
            source, driving, _options(region, absolute, strength, adapt_scale), show_inputs
        )
    except DeepExPoError as exc:
        raise gr.Error(str(exc)) from exc


def transfer_video(source: np.ndarray | None, driving: str | None, region: str, absolute: bool,
                   strength: float, adapt_scale: bool, show_inputs: bool,
                   progress: gr.Progress = gr.Progress()) -> str:
    if source is None or not driving:
        raise gr.Error("Upload an identity image and a driving video.")
    out = Path(tempfile.mkdtemp(prefix="deepexpo-")) / "reenacted.mp4"
    try:
        get_pipeline("warp").transfer_video(
            source, driving, out, _options(region, absolute, strength, adapt_scale),
            show_inputs, keep_audio=True,
            progress=lambda done, total: progress(done / max(total, 1), desc="reenacting"),
        )
    except DeepExPoError as exc:
        raise gr.Error(str(exc)) from exc
    return str(out)


def _controls() -> list[gr.components.Component]:
    with gr.Row():
        region = gr.Dropdown(list(REGIONS), value="all", label="Region")
        strength = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Strength")
    with gr.Row():
        absolute = gr.Checkbox(False, label="Absolute (not relative)")
        adapt = gr.Checkbox(False, label="Adapt scale")
        sbs = gr.Checkbox(False, label="Side by side")
    return [region, absolute, strength, adapt, sbs]


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="DeepExPo") as demo:
        gr.Markdown("# DeepExPo\nTransfer facial expression and head pose onto a photo, "
                    "keeping who the person is. Built-in warp engine: runs offline on CPU.")
        with gr.Tab("Image → Image"):
            with gr.Row():
                src = gr.Image(type="numpy", label="Identity image")
                drv = gr.Image(type="numpy", label="Driving image")
                out = gr.Image(type="numpy", label="Result", format="png")
            controls = _controls()
            gr.Button("Transfer", variant="primary").click(
                transfer_image, [src, drv, *controls], out, api_name="transfer_image")
        with gr.Tab("Video reenactment"):
            with gr.Row():
                vsrc = gr.Image(type="numpy", label="Identity image")
                vdrv = gr.Video(label="Driving video")
                vout = gr.Video(label="Result")
            vcontrols = _controls()
            gr.Button("Reenact", variant="primary").click(
                transfer_video, [vsrc, vdrv, *vcontrols], vout, api_name="transfer_video")
    demo.queue(default_concurrency_limit=1, max_size=16)
    return demo
