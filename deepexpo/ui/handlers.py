"""What the app's buttons call: library calls behind one-line errors, the models a request needs
fetched first (where downloads are allowed), and GPU work inside ZeroGPU where there is one."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from .. import ExpressionControls, ExpressionEdit, MotionOptions, get_pipeline, hub
from ..application import expression_edit, generation_gpu_seconds, motion_options, work_gpu_seconds
from ..engines import cuda_available, resolve_engine
from ..engines import registry as engine_registry
from ..engines.registry import INTERACTIVE, PHOTO, VIDEO, Job
from ..engines.source_faces import SourceFaces
from ..errors import DeepExPoError, NoSourceFaceError
from ..face.points import FacePoints, parse_points, points_json
from ..face.selection import FaceChoice, numbered_faces
from ..fusion import GenerationSetup
from ..fusion.speed import FAST, QUALITY
from ..gpu import gpu_task
from ..io.images import fit_within, read_image, write_image
from ..io.video import probe_video
from .config import APP_CONCURRENCY, APP_LIMITS, ZERO_GPU
from .points_draft import PointsDraft
from .storage import AppStorage

NO_EMOTION = "none"
#: The points tool's title (``ui/points_tool.py``), named where a photo has no face.
POINTS_TOOL = "Face points"
NO_FACE_HINT = (f"if it is an animal, a cartoon, a statue or a painting, place its face by "
                f'hand: open "{POINTS_TOOL}" below the photo or video, or load a points file there '
                f'(JSON: {{"left_eye_outer": [x, y], ..., "chin": [x, y]}} in pixels, as the '
                f"README's Face points shows)")

#: An absolute path on the server (an upload in the app's temporary folder, the weights
#: folder), not part of a URL: quoted (spaces and all), or bare; group 2 or 3 is its last
#: part, the file's name.
_SERVER_PATH = re.compile(r"(?<![\w:/.~-])(?:(['\"])/(?:[^'\"\n]*/)?([^/'\"\n]*)(?=\1)"
                          r"|/(?:[^/\s'\"]+/)+([^/\s'\"]+))")


def user_message(text: object) -> str:
    """``text`` as a visitor may see it: the server's paths reduced to their file names (an
    upload's path says where the app keeps its files)."""
    return _SERVER_PATH.sub(lambda m: (m[1] or "") + (m[2] if m[1] else m[3]), str(text))


class _ForwardWarnings(logging.Handler):
    """Show the library's warnings (several faces, frames without a face) in the browser, for
    the request being handled on this thread only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            gr.Warning(user_message(record.getMessage()))


@contextlib.contextmanager
def _user_facing() -> Iterator[None]:
    """Library errors become one-line ``gr.Error``s; library warnings become ``gr.Warning``s.
    The one place where the library's words reach the visitor: see :func:`user_message`."""
    handler = _ForwardWarnings()
    logger = logging.getLogger("deepexpo")
    logger.addHandler(handler)
    try:
        yield
    except NoSourceFaceError as exc:
        raise gr.Error(user_message(f"{exc}; {NO_FACE_HINT}"), print_exception=False) from exc
    except DeepExPoError as exc:
        raise gr.Error(user_message(exc), print_exception=False) from exc
    finally:
        logger.removeHandler(handler)


def handler(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with _user_facing():
            return fn(*args, **kwargs)

    return wrapped


def _require(value: Any, message: str) -> None:
    if value is None or value == "":
        raise gr.Error(message, print_exception=False)


def _edit_settings(emotion: str, intensity: float, keep_source: float,
                   values: tuple[float, ...]) -> ExpressionEdit:
    """The editor's settings. ``values``: its sliders', made from the controls' fields in the
    order of :meth:`ExpressionControls.names` (``ui/tabs/editor.py``), as the edit endpoints
    take them; they reach the controls by those names."""
    return expression_edit(dict(zip(ExpressionControls.names(), values, strict=True)),
                           None if emotion == NO_EMOTION else emotion, intensity, keep_source)


def source_points(draft: PointsDraft | None) -> tuple[FacePoints, ...]:
    """The faces placed in the points tool, for a run (none placed: the detector finds the
    faces); a one-line error while one is incomplete."""
    return draft.face_points() if isinstance(draft, PointsDraft) else ()


def _fraction_progress(progress: gr.Progress, desc: str) -> Callable[[int, int], None]:
    return lambda done, total: progress(done / max(total, 1), desc=desc)


def download_progress(progress: gr.Progress) -> hub.DownloadProgress:
    """A download's progress shown on Gradio's bar."""
    return lambda fraction, text: progress(fraction, desc=text)


def fetch_models(names: list[str], progress: gr.Progress) -> None:
    """The models a request needs: on disk, or fetched now with progress where downloads are
    allowed; otherwise a one-line error that says what is missing and how to get it."""
    hub.require_all(names, download_progress(progress))


def _engine(engine: str, progress: gr.Progress | None, job: Job = VIDEO) -> str:
    """The engine ``engine`` stands for ``job``, its weights fetched first where that is allowed
    (never without ``progress``: the live editor does not wait for downloads)."""
    name = resolve_engine(engine, job)
    models = list(engine_registry.spec(name).models)
    if models and progress is None:
        for model in models:
            hub.require(model, allow_download=False)
    elif models:
        fetch_models(models, progress)
    return name


# --- the work itself: what runs on the GPU where the neural engine or generation needs one -----

@dataclass(frozen=True)
class GpuEstimate:
    """The seconds a call asks of ZeroGPU, passed first to every work function: ZeroGPU's
    duration reads it there (it is given the call's arguments), whatever the work's own."""

    seconds: float

    @classmethod
    def of(cls, work_s: float) -> GpuEstimate:
        """Loading, then ``work_s`` seconds of the work itself."""
        return cls(ZERO_GPU.seconds(work_s))


def _asked(estimate: GpuEstimate, *args: Any, **kwargs: Any) -> float:
    return estimate.seconds


def _transfer_image_work(_: GpuEstimate, engine: str, source: str, driving: str,
                         options: MotionOptions, show_inputs: bool,
                         face: FaceChoice, points: tuple[FacePoints, ...] = ()) -> np.ndarray:
    return get_pipeline(engine, APP_LIMITS).transfer_image(
        read_image(source, APP_LIMITS), read_image(driving, APP_LIMITS), options, show_inputs,
        face, points=points)


def _transfer_video_work(_: GpuEstimate, engine: str, source: str, driving: str, output: Path,
                         options: MotionOptions, show_inputs: bool,
                         progress: Callable[[int, int], None], face: FaceChoice,
                         points: tuple[FacePoints, ...] = ()) -> None:
    get_pipeline(engine, APP_LIMITS).transfer_video(
        read_image(source, APP_LIMITS), driving, output, options, show_inputs, keep_audio=True,
        progress=progress, face=face, points=points)


def _reenact_video_work(_: GpuEstimate, engine: str, source_video: str, driving: str, output: Path,
                        options: MotionOptions, show_inputs: bool,
                        progress: Callable[[int, int], None],
                        points: tuple[FacePoints, ...] = ()) -> None:
    get_pipeline(engine, APP_LIMITS).reenact_video(source_video, driving, output, options,
                                                   show_inputs, progress=progress, points=points)


@functools.lru_cache(maxsize=4)
def _prepared(engine: str, path: str, max_side: int | None, face: FaceChoice,
              points: str = "") -> SourceFaces:
    """An uploaded photo (no larger than ``max_side``) and the engine's view of its chosen
    faces (or of those placed by hand: ``points``, their JSON), kept while its sliders move:
    Gradio stores each upload under a content hash, so the path names it."""
    image = read_image(path, APP_LIMITS)
    placed = tuple(parse_points(points)) if points else ()
    if max_side is not None:
        width = image.shape[1]
        image = fit_within(image, max_side)
        placed = tuple(face.scaled(image.shape[1] / width) for face in placed)
    return get_pipeline(engine, APP_LIMITS).prepare_faces(image, face, points=placed)


def _edit_image_work(_: GpuEstimate, engine: str, source: str, edit: ExpressionEdit,
                     face: FaceChoice, points: tuple[FacePoints, ...] = (),
                     max_side: int | None = None) -> np.ndarray:
    prepared = _prepared(engine, source, max_side, face, points_json(points) if points else "")
    return get_pipeline(engine, APP_LIMITS).edit_image(prepared.image, edit, prepared=prepared)


def _edit_video_work(_: GpuEstimate, engine: str, video: str, reference: str | None, output: Path,
                     edit: ExpressionEdit, progress: Callable[[int, int], None],
                     points: tuple[FacePoints, ...] = ()) -> None:
    get_pipeline(engine, APP_LIMITS).edit_video(video, output, edit, keep_audio=True,
                                                progress=progress, reference=reference,
                                                points=points)


@functools.lru_cache(maxsize=1)
def _fusion(setup: GenerationSetup) -> Any:
    """The generation pipeline with every part this installation has, loaded on first use."""
    from ..fusion.pipeline import FusionPipeline

    return FusionPipeline.from_pretrained(identity=setup.identity,
                                          semantic_weights=setup.semantic_weights,
                                          controlnet=setup.controlnet, fast=setup.fast,
                                          tiny_vae=setup.tiny_vae)


def _generate_work(_: GpuEstimate, setup: GenerationSetup, prompt: str, identity: str | None,
                   reference: str | None, identity_strength: float, semantic_strength: float,
                   steps: int, guidance: float, seed: int, speed: str,
                   progress: Callable[[int, int], None],
                   cancel: threading.Event | None = None) -> np.ndarray:
    return _fusion(setup)(
        prompt=prompt, identity_image=read_image(identity, APP_LIMITS) if identity else None,
        reference_image=read_image(reference, APP_LIMITS) if reference else None,
        identity_strength=identity_strength, semantic_strength=semantic_strength, steps=steps,
        guidance=guidance, seed=seed, speed=speed, progress=progress, cancel=cancel)


def _step_progress(progress: gr.Progress, what: str) -> Callable[[int, int], None]:
    """Steps on Gradio's bar with the time left, from the pace of the steps so far."""
    start = time.perf_counter()

    def report(done: int, total: int) -> None:
        left = (time.perf_counter() - start) / max(done, 1) * (total - done)
        desc = (f"{what}: step {done} of {total}, about {_format_duration(left)} left"
                if done < total else f"{what}: decoding")
        progress((done, total), desc=desc, unit="steps")

    return report


def _video_frames(path: str) -> int:
    return probe_video(path, APP_LIMITS).frame_count


#: Each kind of work the app does (its GPU cost: :func:`deepexpo.application.work_gpu_seconds`).
_WORK: dict[str, Callable[..., Any]] = {
    "image": _transfer_image_work,
    "video": _transfer_video_work,
    "reenact": _reenact_video_work,
    "edit": _edit_image_work,
    "edit_video": _edit_video_work,
    "generate": _generate_work,
}


def _format_duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


class Handlers:
    """The app's event handlers. Work for the neural engine and generation goes through
    :func:`~deepexpo.gpu.gpu_task` (ZeroGPU, with a duration estimated from the work); warp
    work runs as it is."""

    def __init__(self, storage: AppStorage) -> None:
        self.storage = storage
        self._live = threading.BoundedSemaphore(APP_CONCURRENCY.live)
        self._neural_frame_s: float | None = None  # measured on this machine, once known
        self._gpu = {kind: gpu_task(fn, _asked) for kind, fn in _WORK.items()}
        # Each browser session's running generations, which its Stop button cancels.
        self._cancels: dict[str, set[threading.Event]] = {}

    def _run(self, kind: str, engine: str, *args: Any, frames: int = 1) -> Any:
        """``kind`` of work on ``frames`` frames: on the GPU for an engine that wants one,
        asking for what it costs; as it is otherwise."""
        if not engine_registry.spec(engine).wants_gpu:
            return _WORK[kind](GpuEstimate(0.0), engine, *args)
        estimate = GpuEstimate.of(work_gpu_seconds(kind, engine, frames))
        return self._gpu[kind](estimate, engine, *args)

    def _timed_photo(self, engine: str, run: Callable[[], np.ndarray]) -> np.ndarray:
        """Run, then say which engine drew the photo and how long it took."""
        start = time.perf_counter()
        out = run()
        gr.Info(f"{engine} engine: {time.perf_counter() - start:.1f} s")
        return out

    def _timed_video(self, engine: str, frames: int, run: Callable[[], None]) -> None:
        """Say up front how long a neural video will take (frames x seconds per frame, as
        measured here, else the benchmark's figure), then time it for the next estimate."""
        spec = engine_registry.spec(engine)
        if not spec.wants_gpu:
            run()
            return
        per_frame = self._neural_frame_s or spec.seconds_per_frame(cuda_available())
        gr.Info(f"The neural engine takes about {per_frame:.1f} s a frame here: {frames} frames, "
                f"about {_format_duration(frames * per_frame)}.")
        start = time.perf_counter()
        run()
        self._neural_frame_s = (time.perf_counter() - start) / max(frames, 1)

    @handler
    def find_faces(self, photo: str | None) -> tuple[Any, Any]:
        """After an upload: the photo with its faces numbered, and the choice of the face to
        drive, reset to the largest. Both show only when the photo has several faces."""
        faces, preview = [], None
        if photo:
            image = read_image(photo, APP_LIMITS)
            faces = get_pipeline("warp", APP_LIMITS).find_faces(image)
            preview = numbered_faces(image, faces) if len(faces) > 1 else None
        several = len(faces) > 1
        return (gr.update(value=preview, visible=several),
                gr.update(choices=FaceChoice.options(len(faces)), value=str(FaceChoice()),
                          visible=several))

    @handler
    def transfer_image(self, source: str | None, driving: str | None, engine: str, region: str,
                       absolute: bool, strength: float, adapt_scale: bool, show_inputs: bool,
                       face: str = "largest", points: PointsDraft | None = None,
                       progress: gr.Progress = gr.Progress()) -> str:
        """``points``: the face placed in the points tool, driven instead of a detected one."""
        _require(source, "Upload an identity image.")
        _require(driving, "Upload a driving image.")
        choice = FaceChoice.parse(face)
        placed = source_points(points)
        engine = _engine(engine, progress, PHOTO.placing(placed))
        return self._save(self._timed_photo(engine, lambda: self._run(
            "image", engine, source, driving,
            motion_options(region, absolute, strength, adapt_scale), bool(show_inputs), choice,
            placed)), ".png")

    @handler
    def transfer_video(self, source: str | None, driving: str | None, engine: str, region: str,
                       absolute: bool, strength: float, adapt_scale: bool, show_inputs: bool,
                       source_video: str | None = None, face: str = "largest",
                       points: PointsDraft | None = None,
                       progress: gr.Progress = gr.Progress()) -> str:
        """A photo, or a source video (which then takes precedence), driven by a video;
        ``face``: which of the photo's faces to drive; ``points``: the faces placed by hand
        on the photo, or the source video's face on its first frame (the tool places on it)."""
        _require(source or source_video, "Upload an identity image or a source video.")
        _require(driving, "Upload a driving video.")
        choice = FaceChoice.parse(face)
        placed = source_points(points)
        # A bad or too-long video fails before any download.
        frames = _video_frames(source_video) if source_video else _video_frames(driving)  # type: ignore[arg-type]  # _require: not None
        engine = _engine(engine, progress, VIDEO.placing(placed))
        out = self.storage.new_result(".mp4")
        kind, first = ("reenact", source_video) if source_video else ("video", source)
        face_args = (placed,) if source_video else (choice, placed)  # a video: its one face
        self._timed_video(engine, frames, lambda: self._run(
            kind, engine, first, driving, out,
            motion_options(region, absolute, strength, adapt_scale), bool(show_inputs),
            _fraction_progress(progress, "reenacting"), *face_args, frames=frames))
        return str(out)

    @handler
    def edit_image(self, source: str | None, face: str, points: PointsDraft | None,
                   engine: str, emotion: str, intensity: float, keep_source: float,
                   *values: float, progress: gr.Progress = gr.Progress()) -> str:
        """``points``: the photo's face placed in the points tool (or None)."""
        _require(source, "Upload a photo to edit.")
        edit = _edit_settings(emotion, intensity, keep_source, values)
        choice = FaceChoice.parse(face)
        placed = source_points(points)
        engine = _engine(engine, progress, PHOTO.placing(placed))
        return self._save(self._timed_photo(
            engine, lambda: self._run("edit", engine, source, edit, choice, placed)), ".png")

    @handler
    def edit_live(self, source: str | None, face: str, points: PointsDraft | None, engine: str,
                  emotion: str, intensity: float, keep_source: float, *values: float) -> Any:
        """The editor's sliders, off the queue for speed: a preview of the photo at most
        ``live_max_side`` large, at most ``APP_CONCURRENCY.live`` at once. A change that arrives
        while those are busy is dropped; the sliders' last change always renders."""
        if not source or (isinstance(points, PointsDraft) and points.incomplete) \
                or not self._live.acquire(blocking=False):
            return gr.skip()  # no photo, points being placed, or busy
        try:
            edit = _edit_settings(emotion, intensity, keep_source, values)
            placed = source_points(points)
            engine = _engine(engine, None, INTERACTIVE.placing(placed))
            out = self._run("edit", engine, source, edit, FaceChoice.parse(face), placed,
                            APP_CONCURRENCY.live_max_side)
            return self._save(out, ".jpg")
        finally:
            self._live.release()

    def _save(self, image: np.ndarray, suffix: str) -> str:
        return str(write_image(self.storage.new_result(suffix), image))

    @handler
    def edit_video(self, video: str | None, reference: str | None, points: PointsDraft | None,
                   engine: str, emotion: str, intensity: float, keep_source: float,
                   *values: float, progress: gr.Progress = gr.Progress()) -> str:
        """``points``: the video's face placed in the points tool on its first frame (or
        None: the detector finds it)."""
        _require(video, "Upload a video to edit.")
        frames = _video_frames(video)  # type: ignore[arg-type]  # _require: not None
        placed = source_points(points)
        engine = _engine(engine, progress, VIDEO.placing(placed))
        out = self.storage.new_result(".mp4")
        edit = _edit_settings(emotion, intensity, keep_source, values)
        self._timed_video(engine, frames, lambda: self._run(
            "edit_video", engine, video, reference or None, out, edit,
            _fraction_progress(progress, "editing"), placed, frames=frames))
        return str(out)

    @handler
    def generate(self, prompt: str, identity: str | None, reference: str | None,
                 identity_strength: float, semantic_strength: float, guidance: float,
                 steps: int, seed: int, speed: str = FAST, request: gr.Request = None,
                 progress: gr.Progress = gr.Progress()) -> str:
        """``speed``: fast (the few-step LoRA) or quality; the Stop button (the same browser
        session) cancels it between steps."""
        _require(prompt.strip() if prompt else "", "Write a prompt.")
        needed = GenerationSetup.needed(bool(identity), bool(reference), speed == FAST)
        missing = [name for name in needed if hub.MODELS[name].locate() is None]
        if missing and not hub.auto_download_allowed():
            # Every missing model at once; without the base model nothing runs, without a
            # branch (or the fast mode's parts) generation runs without it.
            message = user_message(hub.missing_models_message(missing))
            if "sd15" in missing:
                raise gr.Error(message, print_exception=False)
            gr.Warning(message)
            needed = [name for name in needed if name not in missing]
        fetch_models(needed, progress)
        setup = GenerationSetup.detect()
        if speed == FAST and not setup.fast:
            speed = QUALITY  # its LoRA could not be had: said above
        cancel = threading.Event()
        session = request.session_hash if request is not None else None
        running = self._cancels.setdefault(session, set()) if session else set()
        running.add(cancel)
        try:
            image = self._gpu["generate"](
                GpuEstimate.of(generation_gpu_seconds(int(steps))), setup, prompt, identity,
                reference, float(identity_strength), float(semantic_strength), int(steps),
                float(guidance), int(seed), speed,
                _step_progress(progress, f"generating ({speed})"), cancel)
        finally:
            running.discard(cancel)
            if session and not running:
                self._cancels.pop(session, None)
        return self._save(image, ".png")

    def stop_generation(self, request: gr.Request) -> None:
        """Cancel this browser session's generations: each stops at the end of its current
        step, freeing the CPU (Gradio's ``cancels`` frees the queue's slot at once)."""
        for cancel in list(self._cancels.get(request.session_hash, ())):
            cancel.set()
