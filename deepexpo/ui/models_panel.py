"""The app's Models panel: each Hub model the app can use, its state, and a Download button.

A finished download takes effect at once: the engine choices' notes and the generation tab's
list of models are refreshed with the panel. A failed one shows in the table ("failed: why")
and leaves the engine choices as they were. Each page reads the current state when it opens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from .. import hub
from ..engines import ENGINES, cuda_available
from ..engines import registry as engine_registry
from ..errors import CheckpointError, DeepExPoError
from ..fusion import GenerationSetup
from .handlers import download_progress, user_message


def _state(name: str) -> str:
    status = hub.status(name)
    if status.state == "failed":
        return "failed: " + user_message(status.detail).replace("|", "\\|")  # a table cell
    if status.state == "not downloaded":
        return "not downloaded" + (", fetched on first use" if hub.auto_download_allowed() else "")
    return status.state


def model_table() -> str:
    rows = ["| Model | Enables | Repository | Size | State |", "| --- | --- | --- | --- | --- |"]
    for model in hub.MODELS.values():
        revision = model.resolved_revision or "main"
        rows.append(f"| `{model.name}` | {model.enables} | `{model.resolved_repo}@{revision}` | "
                    f"{model.size} | {_state(model.name)} |")
    policy = ("Models that are not on disk are downloaded when first needed."
              if hub.auto_download_allowed() else
              "Downloads are off (`HF_HUB_OFFLINE`)." if hub.offline() else
              "Download a model here before using it (or set `DEEPEXPO_AUTO_DOWNLOAD=1`).")
    return "\n".join(rows) + f"\n\n{policy}"


def engine_info() -> str:
    """``auto``'s rule, then each engine that needs downloaded weights: their state and what a
    frame costs on a CPU (from the engine registry)."""
    choices = [spec.name + " on a GPU (or for a photo on a CPU)" * spec.wants_gpu
               + " with its weights" * bool(spec.models) for spec in engine_registry.by_auto_rank()]
    notes = ["auto: " + ", else ".join(choices)]
    for name in engine_registry.names():
        spec = engine_registry.spec(name)
        for model in spec.models:
            notes.append(f"{name}: {_state(model)} ({hub.MODELS[model].size}; about "
                         f"{spec.seconds_per_frame(cuda=False):.0f} s a frame on a CPU)")
    return " · ".join(notes)


def engine_choices() -> list[tuple[str, str]]:
    """(label, engine) for the dropdown: where the neural engine's weights are on disk, both it
    and the warp engine can run, so they read "best (neural, about N s a photo)" and
    "fast (warp)"; plain names otherwise."""
    neural = engine_registry.spec("neural")
    if any(hub.MODELS[m].locate() is None for m in neural.models):
        return [(name, name) for name in ENGINES]
    seconds = neural.seconds_per_frame(cuda_available())
    labels = {"neural": f"best (neural, about {seconds:.0f} s a photo)" if seconds >= 1
              else "best (neural)", "warp": "fast (warp)"}
    return [(labels.get(name, name), name) for name in ENGINES]


def engine_choice() -> gr.Dropdown:
    return gr.Dropdown(engine_choices(), value="auto", label="Engine", info=engine_info())


def generation_status() -> str:
    return "\n".join(f"- {line}" for line in GenerationSetup.detect().describe())


def refresh(engines: int) -> list[Any]:
    """The panel, each engine choice's note, and the generation tab's list of models."""
    info = engine_info()
    choices = engine_choices()
    return [model_table(), *[gr.update(info=info, choices=choices)] * engines,
            generation_status()]


def _downloader(name: str, engines: int) -> Callable[..., list[Any]]:
    def download(progress: gr.Progress = gr.Progress()) -> list[Any]:
        """The panel afterwards, whether the download worked or not: a failure is a row of
        the table and a warning, not an error that would replace the engine choices."""
        report = download_progress(progress)
        try:
            try:
                hub.require(name, report, allow_download=True)
            except CheckpointError:  # damaged on disk: fetch every file again
                hub.download(name, force=True, progress=report)
                hub.require(name)
        except DeepExPoError as exc:
            gr.Warning(user_message(exc))
        return refresh(engines)

    return download


def models_panel(demo: gr.Blocks, engine_choices: list[gr.Dropdown], generation: gr.Markdown,
                 runs: list[Any]) -> None:
    """The accordion, wired to refresh ``engine_choices`` and ``generation`` when a page
    opens, after downloads, and after each of ``runs`` (events that may have fetched a model
    on first use)."""
    with gr.Accordion("Models", open=False):
        gr.Markdown("Pretrained models from the Hugging Face Hub. The warp engine needs none.")
        table = gr.Markdown(model_table(), elem_id="models-table")
        outputs = [table, *engine_choices, generation]
        with gr.Row():
            for model in hub.MODELS.values():
                # Progress shows on the table only: the engine choices stay usable meanwhile.
                gr.Button(f"Download {model.name} ({model.size})", size="sm").click(
                    _downloader(model.name, len(engine_choices)), None, outputs,
                    api_name=f"download_{model.name.replace('-', '_')}", show_progress_on=table)
            gr.Button("Refresh", size="sm").click(lambda: refresh(len(engine_choices)), None,
                                                  outputs, api_name="model_status")
        for run in runs:
            run.then(lambda: refresh(len(engine_choices)), None, outputs, api_name=False,
                     show_progress="hidden")
    demo.load(lambda: refresh(len(engine_choices)), None, outputs, api_name=False,
              show_progress="hidden")
