"""The application layer the CLI, the app and the Python API share, and the seams the front
ends are built from: requests from settings, controls by name, GPU costs, tabs and commands."""

from __future__ import annotations

import pytest

import deepexpo
from deepexpo.application import (
    expression_controls,
    expression_edit,
    motion_options,
    work_gpu_seconds,
)
from deepexpo.commands import COMMANDS
from deepexpo.engines import registry
from deepexpo.errors import InputError


def test_public_api_exports_what_an_edit_needs():
    edit = deepexpo.ExpressionEdit.emotion("happy")
    assert edit.controls.smile == deepexpo.EMOTIONS["happy"].smile == 1.0
    assert "expression" in deepexpo.REGIONS
    assert set(deepexpo.__all__) >= {"ExpressionEdit", "ExpressionControls", "EMOTIONS",
                                     "REGIONS"}


def test_controls_are_matched_by_name():
    controls = expression_controls({"yaw": 12.0, "wink": 1.0})
    assert (controls.yaw, controls.wink, controls.smile) == (12.0, 1.0, 0.0)
    with pytest.raises(InputError, match="unknown expression controls: grin"):
        expression_controls({"grin": 1.0})
    edit = expression_edit({"smile": 0.5}, "sad", 1.0, None)
    assert edit.keep_source == 0.0  # an emotion replaces the source's expression by default
    assert expression_edit({"smile": 0.5}).keep_source == 1.0  # controls add to it


def test_settings_are_checked_where_requests_are_made():
    options = motion_options("lips", absolute=True, strength=1.5)
    assert (options.region, options.relative, options.strength) == ("lips", False, 1.5)
    with pytest.raises(InputError, match="strength"):
        motion_options("all", False, float("nan"))
    with pytest.raises(InputError, match="intensity"):
        expression_edit({}, "happy", 3.0)


def test_gpu_cost_follows_the_work():
    warp, neural = registry.spec("warp"), registry.spec("neural")
    assert warp.models == () and not warp.wants_gpu
    assert neural.models == ("neural",) and neural.wants_gpu
    frame_s = neural.gpu_seconds_per_frame
    assert work_gpu_seconds("video", "neural", 100) == pytest.approx(100 * frame_s)
    assert work_gpu_seconds("reenact", "neural", 100) == pytest.approx(200 * frame_s)
    assert work_gpu_seconds("image", "neural") == pytest.approx(2 * frame_s)


def test_editor_sliders_are_the_controls_in_the_endpoint_order():
    """The edit endpoints read their values by :meth:`ExpressionControls.names`: the editor's
    sliders are made from those fields, each named after its control."""
    import gradio as gr

    from deepexpo.ui.tabs.editor import control_sliders

    with gr.Blocks():
        sliders = control_sliders()
    assert [s.elem_id for s in sliders] == [f"edit-{n}"
                                           for n in deepexpo.ExpressionControls.names()]
    assert {s.label for s in sliders} >= {"pupil x", "roll"}


def test_every_command_registers_itself():
    from deepexpo.cli import _parser

    parser = _parser()
    assert ("{transfer,edit,generate,prepare-videos,train,evaluate,animate,download}"
            in parser.format_usage())
    assert len(COMMANDS) == 7  # evaluation adds two
    for argv in (["transfer", "--source", "a", "--driving", "b", "--output", "c"],
                 ["download", "neural"], ["train", "fusion", "--data", "d"],
                 ["prepare-videos", "--input", "raw", "--output", "clips"]):
        assert callable(parser.parse_args(argv).run)
