"""The Gradio app. It only wires components to library calls: no model code here."""

from __future__ import annotations

import contextlib
import functools
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from . import MotionOptions, get_pipeline
from .config import APP_LIMITS
from .engines import engine_availability
from .errors import DeepExPoError
from .face.canonical import REGIONS
from .fusion import GenerationSetup
from .io.images import read_image
from .motion.controls import EMOTIONS, ExpressionControls, ExpressionEdit

#: Result files older than this are deleted; Gradio serves its own copies (``delete_cache``).
OUTPUT_MAX_AGE_S = 600
#: Gradio's cache of uploads and results: checked every half hour, files older than an hour go.
CACHE_CLEANUP = (1800, 3600)

DESCRIPTION = """# DeepExPo
Transfer facial expression and head pose onto a photo while keeping who the person is.
Upload an **identity image** (whose face to keep) and a **driving image or video** (whose
expression and head pose to copy), or click an example. The built-in warp engine runs offline on
a CPU; videos up to {seconds:.0f} s and {side} px."""


def _image_upload(label: str, **kwargs: Any) -> gr.Image:
    """An image upload handed to the library as its file path, undecoded. The library's reader
    checks format and size and says what is wrong in one line, where Gradio's own decoding
    would turn a damaged file into a generic error. (Overridden on the instance: a Component
    subclass would make Gradio write a ``.pyi`` stub into the package at import.)"""
    image = gr.Image(type="filepath", label=label, **kwargs)
    image.preprocess = lambda payload: None if payload is None else str(payload.path)
    return image


class _OutputFolder:
    """Where handlers write result files. Gradio copies each returned file into its cache, so
    ours only need to outlive that copy: each new result clears out the stale ones."""

    def __init__(self, max_age_s: float = OUTPUT_MAX_AGE_S):
        self._dir = tempfile.TemporaryDirectory(prefix="deepexpo-app-")
        self.max_age_s = max_age_s

    def new_file(self, suffix: str) -> Path:
        folder = Path(self._dir.name)
        deadline = time.time() - self.max_age_s
        for old in folder.iterdir():
            if old.stat().st_mtime < deadline:
                old.unlink(missing_ok=True)
        return folder / f"{uuid.uuid4().hex}{suffix}"


class _ForwardWarnings(logging.Handler):
    """Show the library's warnings (several faces, frames without a face) in the browser, for
    the request being handled on this thread only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            gr.Warning(record.getMessage())


@contextlib.contextmanager
def _user_facing() -> Iterator[None]:
    """Library errors become one-line ``gr.Error``s; library warnings become ``gr.Warning``s."""
    handler = _ForwardWarnings()
    logger = logging.getLogger("deepexpo")
    logger.addHandler(handler)
    try:
        yield
    except DeepExPoError as exc:
        raise gr.Error(str(exc), print_exception=False) from exc
    finally:
        logger.removeHandler(handler)


def _handler(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with _user_facing():
            return fn(*args, **kwargs)

    return wrapped


def _options(region: str, absolute: bool, strength: float, adapt_scale: bool) -> MotionOptions:
    return MotionOptions(region=region, relative=not absolute, strength=float(strength),
                         adapt_scale=bool(adapt_scale))


def _require(value: Any, message: str) -> None:
    if value is None or value == "":
        raise gr.Error(message, print_exception=False)


@_handler
def transfer_image(source: str | None, driving: str | None, engine: str, region: str,
                   absolute: bool, strength: float, adapt_scale: bool,
                   show_inputs: bool) -> np.ndarray:
    _require(source, "Upload an identity image.")
    _require(driving, "Upload a driving image.")
    return get_pipeline(engine, APP_LIMITS).transfer_image(
        read_image(source, APP_LIMITS), read_image(driving, APP_LIMITS),
        _options(region, absolute, strength, adapt_scale), bool(show_inputs),
    )


def _make_transfer_video(outputs: _OutputFolder) -> Callable[..., str]:
    @_handler
    def transfer_video(source: str | None, driving: str | None, engine: str, region: str,
                       absolute: bool, strength: float, adapt_scale: bool, show_inputs: bool,
                       progress: gr.Progress = gr.Progress()) -> str:
        _require(source, "Upload an identity image.")
        _require(driving, "Upload a driving video.")
        out = outputs.new_file(".mp4")
        get_pipeline(engine, APP_LIMITS).transfer_video(
            read_image(source, APP_LIMITS), driving, out,
            _options(region, absolute, strength, adapt_scale), bool(show_inputs), keep_audio=True,
            progress=lambda done, total: progress(done / max(total, 1), desc="reenacting"),
        )
        return str(out)

    return transfer_video


NO_EMOTION = "none"


def _edit_settings(emotion: str, intensity: float, keep_source: float,
                   values: tuple[float, ...]) -> ExpressionEdit:
    controls = ExpressionControls(**dict(zip(ExpressionControls.names(), map(float, values),
                                             strict=True)))
    return ExpressionEdit.from_settings(controls, None if emotion == NO_EMOTION else emotion,
                                        float(intensity), float(keep_source))


@functools.lru_cache(maxsize=4)
def _prepared(engine: str, path: str) -> Any:
    """The engine's view of an uploaded photo, kept while its sliders move: Gradio stores each
    upload under a content hash, so the path names the image."""
    return get_pipeline(engine, APP_LIMITS).prepare_source(read_image(path, APP_LIMITS))[1]


@_handler
def edit_image(source: str | None, engine: str, emotion: str, intensity: float,
               keep_source: float, *values: float) -> np.ndarray:
    _require(source, "Upload a photo to edit.")
    edit = _edit_settings(emotion, intensity, keep_source, values)
    return get_pipeline(engine, APP_LIMITS).engine.edit(_prepared(engine, source), edit)


def _make_edit_video(outputs: _OutputFolder) -> Callable[..., str]:
    @_handler
    def edit_video(video: str | None, reference: str | None, engine: str, emotion: str,
                   intensity: float, keep_source: float, *values: float,
                   progress: gr.Progress = gr.Progress()) -> str:
        _require(video, "Upload a video to edit.")
        out = outputs.new_file(".mp4")
        get_pipeline(engine, APP_LIMITS).edit_video(
            video, out, _edit_settings(emotion, intensity, keep_source, values), keep_audio=True,
            progress=lambda done, total: progress(done / max(total, 1), desc="editing"),
            reference=reference or None,
        )
        return str(out)

    return edit_video


@functools.lru_cache(maxsize=1)
def _fusion(setup: GenerationSetup) -> Any:
    """The generation pipeline with every part this installation has, loaded on first use."""
    from .fusion.pipeline import FusionPipeline

    return FusionPipeline.from_pretrained(identity=setup.identity,
                                          semantic_weights=setup.semantic_weights,
                                          controlnet=setup.controlnet)


@_handler
def generate(prompt: str, identity: str | None, reference: str | None, identity_strength: float,
             semantic_strength: float, guidance: float, steps: int, seed: int,
             progress: gr.Progress = gr.Progress()) -> np.ndarray:
    _require(prompt.strip() if prompt else "", "Write a prompt.")
    setup = GenerationSetup.detect()
    if not setup.base_ready:
        raise gr.Error(" ".join(setup.describe()), print_exception=False)
    steps = int(steps)
    return _fusion(setup).generate(
        prompt, read_image(identity, APP_LIMITS) if identity else None,
        read_image(reference, APP_LIMITS) if reference else None, float(identity_strength),
        float(semantic_strength), steps, float(guidance), int(seed),
        progress=lambda done, total: progress(done / total, desc="generating"),
    )


def _engine_choice() -> gr.Dropdown:
    status = engine_availability()
    ready = [name for name, reason in status.items() if reason is None]
    missing = "; ".join(f"{name}: unavailable, {reason}" for name, reason in status.items()
                        if reason is not None)
    return gr.Dropdown(ready, value=ready[0], label="Engine", info=missing or None)


def _controls() -> list[gr.components.Component]:
    with gr.Row():
        engine = _engine_choice()
        region = gr.Dropdown(list(REGIONS), value="all", label="Region",
                             info="expression keeps the identity's head pose; pose keeps its expression")
        strength = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Strength",
                             info="0 leaves the photo unchanged")
    with gr.Row():
        absolute = gr.Checkbox(False, label="Absolute",
                               info="copy the driver's expression as it is, not its change")
        adapt = gr.Checkbox(False, label="Adapt scale",
                            info="scale head movement by the ratio of face sizes")
        sbs = gr.Checkbox(False, label="Side by side", info="identity | driver | result")
    return [engine, region, absolute, strength, adapt, sbs]


def _examples(folder: Path | None, rows: list[list[Any]], inputs: list[gr.components.Component],
              fn: Callable[..., Any], output: gr.components.Component) -> None:
    """Examples that run on click (not cached, so the app starts at once); a missing folder
    (an installed package without the repository's assets) simply has none."""
    if folder is None or not folder.is_dir():
        return
    rows = [[str(folder / row[0]), str(folder / row[1]), *row[2:]] for row in rows]
    gr.Examples(rows, inputs, output, fn, cache_examples=False, run_on_click=True)


def _editor_tab(examples: Path | None, edit_video: Callable[..., str]) -> None:
    gr.Markdown("Dial an expression by hand or pick an emotion: the result follows the sliders. "
                "Apply the same settings to a video to change its emotion while the head motion "
                "and the lips (speech) stay as they are.")
    with gr.Row():
        photo = _image_upload("Photo", elem_id="edit-source")
        result = gr.Image(type="numpy", label="Edited", format="jpeg", elem_id="edit-result")
    with gr.Row():
        engine = _engine_choice()
        emotion = gr.Dropdown([NO_EMOTION, *EMOTIONS], value=NO_EMOTION, label="Emotion")
        intensity = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Intensity")
        keep = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="Keep source expression",
                         info="1: add to the photo's own expression; 0: start from neutral")
    sliders = []
    for group in (("smile", "blink", "wink", "eyebrow_raise", "eyebrow_frown"),
                  ("aaa", "eee", "woo", "pupil_x", "pupil_y"), ("pitch", "yaw", "roll")):
        with gr.Row():
            for name in group:
                low, high = ExpressionControls.slider_range(name)
                sliders.append(gr.Slider(low, high, value=0.0, step=(high - low) / 100,
                                         label=name.replace("_", " "),
                                         info=ExpressionControls.describe(name),
                                         elem_id=f"edit-{name}"))
    reset = gr.Button("Reset controls")
    settings = [engine, emotion, intensity, keep, *sliders]
    # One listener for every control: a burst of changes (dragging, reset) renders once more
    # after the one in flight, not once per change.
    # Each update takes milliseconds: it skips the queue, whose round trip would double the
    # time a slider takes to show its effect.
    gr.on([c.change for c in (photo, *settings)], edit_image, [photo, *settings], result,
          api_name=False, trigger_mode="always_last", show_progress="hidden", queue=False)
    gr.Button("Edit", variant="primary").click(edit_image, [photo, *settings], result,
                                               api_name="edit_image")
    # An emotion replaces the photo's own expression unless told to keep it.
    emotion.input(lambda e: 1.0 if e == NO_EMOTION else 0.0, emotion, keep, api_name=False)
    reset.click(lambda: [0.0] * len(sliders), None, sliders, api_name=False)
    if examples is not None and examples.is_dir():
        gr.Examples([[str(examples / "astronaut.jpg")], [str(examples / "hopper.jpg")]], [photo])
    with gr.Accordion("Apply to a video", open=False):
        with gr.Row():
            video = gr.Video(label="Video to edit")
            reference = gr.Video(label="Expression reference clip (optional)")
            video_out = gr.Video(label="Edited video")
        gr.Button("Edit video", variant="primary").click(
            edit_video, [video, reference, *settings], video_out, api_name="edit_video")


def build_demo(examples: Path | None = None) -> gr.Blocks:
    """The app; ``examples`` is the folder of example files (``assets/examples``)."""
    outputs = _OutputFolder()
    with gr.Blocks(title="DeepExPo", delete_cache=CACHE_CLEANUP, analytics_enabled=False) as demo:
        gr.Markdown(DESCRIPTION.format(seconds=APP_LIMITS.max_video_seconds,
                                       side=APP_LIMITS.max_video_side))
        with gr.Tab("Image → Image"):
            with gr.Row():
                src = _image_upload("Identity image", elem_id="image-source")
                drv = _image_upload("Driving image", elem_id="image-driving")
                out = gr.Image(type="numpy", label="Result", format="png", elem_id="image-result")
            controls = _controls()
            run = gr.Button("Transfer", variant="primary", elem_id="image-run")
            run.click(transfer_image, [src, drv, *controls], out, api_name="transfer_image")
            _examples(examples, [
                ["astronaut.jpg", "driver_open_mouth.jpg", "warp", "all", False, 1.0, False, False],
                ["hopper.jpg", "driver_turned.jpg", "warp", "pose", False, 1.0, False, True],
                ["astronaut.jpg", "driver_open_mouth.jpg", "warp", "lips", False, 1.5, False, True],
            ], [src, drv, *controls], transfer_image, out)

        transfer_video = _make_transfer_video(outputs)
        with gr.Tab("Video reenactment"):
            with gr.Row():
                vsrc = _image_upload("Identity image")
                vdrv = gr.Video(label="Driving video")
                vout = gr.Video(label="Result", elem_id="video-result")
            vcontrols = _controls()
            gr.Button("Reenact", variant="primary").click(
                transfer_video, [vsrc, vdrv, *vcontrols], vout, api_name="transfer_video")
            _examples(examples, [
                ["astronaut.jpg", "driver_talking.mp4", "warp", "all", False, 1.0, False, True],
                ["hopper.jpg", "driver_talking.mp4", "warp", "expression", False, 1.0, False, False],
            ], [vsrc, vdrv, *vcontrols], transfer_video, vout)

        with gr.Tab("Expression editor"):
            _editor_tab(examples, _make_edit_video(outputs))

        with gr.Tab("Text-prompted generation"):
            gr.Markdown("Generate new images of the identity person from a text prompt, with the "
                        "expression and head pose of a reference image. The identity strength "
                        "weighs the identity branch; the expression/pose strength weighs the "
                        "semantic branch or the face ControlNet.\n\n"
                        + "\n".join(f"- {line}" for line in GenerationSetup.detect().describe()))
            with gr.Row():
                prompt = gr.Textbox(label="Prompt", placeholder="a portrait photo of a person "
                                    "in a garden, golden hour", scale=3)
                button = gr.Button("Generate", variant="primary", scale=1)
            with gr.Row():
                identity = _image_upload("Identity image")
                reference = _image_upload("Expression / pose reference")
                result = gr.Image(type="numpy", label="Result", format="png")
            with gr.Row():
                id_strength = gr.Slider(0.0, 1.5, value=0.8, step=0.05, label="Identity strength")
                sem_strength = gr.Slider(0.0, 1.5, value=0.8, step=0.05,
                                         label="Expression / pose strength")
            with gr.Row():
                guidance = gr.Slider(1.0, 15.0, value=7.5, step=0.5, label="Guidance")
                steps = gr.Slider(1, 100, value=30, step=1, label="Steps")
                seed = gr.Number(0, precision=0, label="Seed")
            button.click(generate, [prompt, identity, reference, id_strength, sem_strength,
                                    guidance, steps, seed], result, api_name="generate")
    demo.queue(default_concurrency_limit=1, max_size=16)
    return demo


def launch(demo: gr.Blocks, **kwargs: Any) -> tuple[Any, str, str | None]:
    """Launch with the app's upload limit; no paths beyond Gradio's own are served."""
    return demo.launch(max_file_size=APP_LIMITS.max_file_bytes, **kwargs)
