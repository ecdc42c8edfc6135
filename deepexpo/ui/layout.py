"""The Gradio app's layout. It only wires components to the handlers: no model code here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from ..config import APP_CONCURRENCY, APP_LIMITS, APP_STORAGE, StorageLimits
from ..engines import cuda_available
from ..face.canonical import REGIONS
from ..face.selection import FaceChoice
from ..fusion.speed import SETTINGS, SPEEDS, default_speed
from ..motion.controls import EMOTIONS, ExpressionControls
from .access import Credentials, exposure_warning
from .components import image_upload
from .handlers import NO_EMOTION, Handlers
from .live import live_tab
from .models_panel import engine_choice, generation_status, models_panel
from .storage import AppStorage, UploadRoom, exit_on_sigterm

logger = logging.getLogger(__name__)

#: The handlers that do the app's work: they share one concurrency limit, examples included.
WORK = ("transfer_image", "transfer_video", "edit_image", "edit_video", "generate")

DESCRIPTION = """# DeepExPo
Transfer facial expression and head pose onto a photo while keeping who the person is.
Upload an **identity image** (whose face to keep) and a **driving image or video** (whose
expression and head pose to copy), or click an example. The built-in warp engine runs offline on
a CPU; the neural engine and text-prompted generation use pretrained models from the Hugging Face
Hub (see **Models** below). Videos up to {seconds:.0f} s and {side} px."""


def _face_picker(photo: gr.Image, handlers: Handlers) -> tuple[gr.Dropdown, Any]:
    """The faces found in an uploaded ``photo``, numbered, and which to drive (or all); they
    show only when it has several. Returns the choice and the event that resets it on upload."""
    with gr.Row():
        preview = gr.Image(type="numpy", label="Faces found, numbered left to right",
                           interactive=False, visible=False, height=240)
        face = gr.Dropdown(FaceChoice.options(0), value=str(FaceChoice()), label="Face to drive",
                           info="largest, all, or a face's number", allow_custom_value=True,
                           visible=False)
    found = photo.change(handlers.find_faces, photo, [preview, face], api_name=False,
                         show_progress="hidden")
    return face, found


def _controls() -> list[gr.components.Component]:
    with gr.Row():
        engine = engine_choice()
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


def _editor_tab(examples: Path | None, handlers: Handlers) -> gr.Dropdown:
    gr.Markdown("Dial an expression by hand or pick an emotion: the result follows the sliders. "
                "Apply the same settings to a video to change its emotion while the head motion "
                "and the lips (speech) stay as they are.")
    with gr.Row():
        photo = image_upload("Photo", elem_id="edit-source")
        result = gr.Image(type="numpy", label="Edited", format="jpeg", elem_id="edit-result")
    face, found = _face_picker(photo, handlers)
    with gr.Row():
        engine = engine_choice()
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
    live = dict(fn=handlers.edit_live, inputs=[photo, face, *settings], outputs=result,
                api_name=False, trigger_mode="always_last", show_progress="hidden", queue=False)
    # One listener for every control: a burst of changes (dragging, reset) renders once more
    # after the one in flight, not once per change.
    # Each update takes milliseconds: it skips the queue, whose round trip would double the
    # time a slider takes to show its effect. A new photo renders once its faces are found.
    gr.on([c.change for c in (face, *settings)], **live)
    found.then(**live)
    gr.Button("Edit", variant="primary").click(handlers.edit_image, [photo, face, *settings],
                                               result, api_name="edit_image")
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
            handlers.edit_video, [video, reference, *settings], video_out,
            api_name="edit_video")
    return engine


def build_demo(examples: Path | None = None,
               storage_limits: StorageLimits = APP_STORAGE) -> gr.Blocks:
    """The app; ``examples`` is the folder of example files (``assets/examples``). Reads the
    disk to show which models are there; never touches the network."""
    storage = AppStorage(storage_limits)  # before any component: they read its upload folder
    if examples is not None and examples.is_dir():
        # Served where they are: a copy in the storage folder would be pruned under the page.
        gr.set_static_paths([examples])
    handlers = Handlers(storage)
    with gr.Blocks(title="DeepExPo", analytics_enabled=False) as demo:
        gr.Markdown(DESCRIPTION.format(seconds=APP_LIMITS.max_video_seconds,
                                       side=APP_LIMITS.max_video_side))
        with gr.Tab("Image → Image"):
            with gr.Row():
                src = image_upload("Identity image", elem_id="image-source")
                drv = image_upload("Driving image", elem_id="image-driving")
                out = gr.Image(type="numpy", label="Result", format="png", elem_id="image-result")
            face, _ = _face_picker(src, handlers)
            controls = _controls()
            run = gr.Button("Transfer", variant="primary", elem_id="image-run")
            image_run = run.click(handlers.transfer_image, [src, drv, *controls, face], out,
                                  api_name="transfer_image")
            _examples(examples, [
                ["astronaut.jpg", "driver_open_mouth.jpg", "warp", "all", False, 1.0, False, False],
                ["hopper.jpg", "driver_turned.jpg", "warp", "pose", False, 1.0, False, True],
                ["astronaut.jpg", "driver_open_mouth.jpg", "warp", "lips", False, 1.5, False, True],
            ], [src, drv, *controls], handlers.transfer_image, out)

        with gr.Tab("Video reenactment"):
            gr.Markdown("Drive a photo, or a whole source video, with a driving video. With a "
                        "source video, each frame keeps what the region does not drive: "
                        "`expression` keeps its head motion, `pose` its expression and lips.")
            with gr.Row():
                vsrc = image_upload("Identity image")
                vsrc_video = gr.Video(label="…or a source video", elem_id="video-source-video")
                vdrv = gr.Video(label="Driving video")
                vout = gr.Video(label="Result", elem_id="video-result")
            vface, _ = _face_picker(vsrc, handlers)
            vcontrols = _controls()
            video_inputs = [vsrc, vdrv, *vcontrols, vsrc_video]
            video_run = gr.Button("Reenact", variant="primary").click(
                handlers.transfer_video, [*video_inputs, vface], vout, api_name="transfer_video")
            _examples(examples, [
                ["astronaut.jpg", "driver_talking.mp4", "warp", "all", False, 1.0, False, True,
                 None],
                ["hopper.jpg", "driver_talking.mp4", "warp", "expression", False, 1.0, False, False,
                 None],
            ], video_inputs, handlers.transfer_video, vout)

        with gr.Tab("Expression editor"):
            edit_engine = _editor_tab(examples, handlers)

        with gr.Tab("Live"):
            live_tab(examples)

        with gr.Tab("Text-prompted generation"):
            gr.Markdown("Generate new images of the identity person from a text prompt, with the "
                        "expression and head pose of a reference image. The identity strength "
                        "weighs the identity branch; the expression/pose strength weighs the "
                        "semantic branch or the face ControlNet.")
            generation = gr.Markdown(generation_status(), elem_id="generation-models")
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
            generate_run = button.click(handlers.generate, [prompt, identity, reference, id_strength,
                                             sem_strength, guidance, steps, seed, speed], result,
                         api_name="generate")
            # The Stop button ends the running denoising loop (between steps) and frees the slot.
            stop.click(handlers.stop_generation, None, None, cancels=[generate_run],
                       api_name="stop_generation", queue=False)

        models_panel(demo, [controls[0], vcontrols[0], edit_engine], generation,
                     [image_run, video_run, generate_run])
        demo.unload(handlers.stop_generation)  # a closed tab's generation stops too
    for block_fn in demo.fns.values():
        if block_fn.name in WORK:
            block_fn.concurrency_id, block_fn.concurrency_limit = "work", APP_CONCURRENCY.work
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
