"""What the app's tabs share: the context they are built in, what they hand back, and the
controls more than one of them shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from ... import REGIONS, FaceChoice
from ..config import WORK_EVENT
from ..handlers import Handlers
from ..models_panel import engine_choice


@dataclass(frozen=True)
class TabContext:
    """What a tab is built from: the app's example files (or None) and its handlers."""

    examples: Path | None
    handlers: Handlers


@dataclass
class TabParts:
    """What a tab hands back: its engine choices and the events that may fetch a model on
    first use (the Models panel refreshes after them), and where generation's models are
    listed."""

    engines: list[gr.Dropdown] = field(default_factory=list)
    runs: list[Any] = field(default_factory=list)
    generation_status: gr.Markdown | None = None


def face_picker(photo: gr.Image, handlers: Handlers) -> tuple[gr.Dropdown, Any]:
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


def motion_controls() -> list[gr.components.Component]:
    """Engine, region, absolute, strength, adapt scale, side by side: the transfer handlers'
    arguments after the two inputs, in their order."""
    with gr.Row():
        engine = engine_choice()
        region = gr.Dropdown(list(REGIONS), value="all", label="Region",
                             info="expression keeps the identity's head pose; pose keeps its "
                                  "expression")
        strength = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Strength",
                             info="0 leaves the photo unchanged")
    with gr.Row():
        absolute = gr.Checkbox(False, label="Absolute",
                               info="copy the driver's expression as it is, not its change")
        adapt = gr.Checkbox(False, label="Adapt scale",
                            info="scale head movement by the ratio of face sizes")
        sbs = gr.Checkbox(False, label="Side by side", info="identity | driver | result")
    return [engine, region, absolute, strength, adapt, sbs]


def work_examples(folder: Path | None, rows: list[list[Any]],
                  inputs: list[gr.components.Component], fn: Callable[..., Any],
                  output: gr.components.Component) -> None:
    """Examples that run on click (not cached, so the app starts at once), within the app's
    one work limit; a missing folder (an installed package without the repository's assets)
    simply has none."""
    if folder is None or not folder.is_dir():
        return
    rows = [[str(folder / row[0]), str(folder / row[1]), *row[2:]] for row in rows]
    examples = gr.Examples(rows, inputs, output, cache_examples=False)
    examples.load_input_event.then(fn, inputs, output, api_visibility="undocumented",
                                   **WORK_EVENT)
