"""The Live tab without a browser: the library's per-frame reenactor, the slots that say who may
stream, and the tab's handler (``pytest -k live``). Webcam frames are bundled photos, their
motion known; results are measured with the project's landmarks."""

from __future__ import annotations

import contextlib
import threading
from types import SimpleNamespace

import cv2
import gradio as gr
import numpy as np
import pytest
from skimage import data

from deepexpo import get_pipeline
from deepexpo.engines import WarpEngine
from deepexpo.errors import BusyError
from deepexpo.io.images import read_image, write_image
from deepexpo.live import LiveReenactor
from deepexpo.motion.compose import MotionOptions
from deepexpo.pipeline import TransferPipeline
from deepexpo.ui import live as live_ui
from deepexpo.ui.live import NO_FACE, NO_PHOTO, LiveHandlers
from deepexpo.ui.live_slots import LiveSlots

RELATIVE, ABSOLUTE = MotionOptions(), MotionOptions(relative=False)


@pytest.fixture
def live(astronaut) -> LiveReenactor:
    reenactor = LiveReenactor(get_pipeline("warp"), astronaut)
    yield reenactor
    reenactor.close()


def _mouths(live, frames, measure, options=RELATIVE) -> list[float]:
    return [measure.mouth(live.drive(frame, options).image) for frame in frames]


def test_live_photo_follows_the_webcam_mouth(live, driving_frames, astronaut, measure):
    """Closed, open, closed: relative to the first frame, the astronaut's own mouth opens."""
    mouths = _mouths(live, driving_frames, measure)
    own = measure.mouth(astronaut)
    assert mouths[0] == pytest.approx(own, abs=0.03)
    assert mouths[6] > own + 0.1 and mouths[7] > own + 0.1  # smoothing lags the first one
    assert mouths[-1] < own + 0.05


def test_live_set_neutral_measures_from_the_next_frame(live, driving_frames, astronaut, measure):
    """Started with the mouth open, the photo cannot open it further until the open mouth
    stops being the reference."""
    calm, opened = driving_frames[0], driving_frames[4]
    own = measure.mouth(astronaut)
    assert max(_mouths(live, [opened] * 3 + [calm] * 3, measure)) < own + 0.05
    live.set_neutral()
    assert _mouths(live, [calm] * 3 + [opened] * 4, measure)[-1] > own + 0.1


def test_live_absolute_copies_the_webcam_mouth(live, driving_frames, measure):
    calm, opened = driving_frames[0], driving_frames[4]
    closed = _mouths(live, [calm] * 4, measure, ABSOLUTE)[-1]
    assert _mouths(live, [opened] * 4, measure, ABSOLUTE)[-1] > closed + 0.1


def test_live_frame_without_a_face_keeps_the_last_motion(live, driving_frames):
    last = live.drive(driving_frames[4], RELATIVE)
    blank = live.drive(np.full_like(driving_frames[0], 128), RELATIVE)
    assert last.face_found and not blank.face_found
    assert np.abs(blank.image.astype(int) - last.image).mean() < 1.0


def test_live_mirror_turns_the_photo_the_other_way(hopper, astronaut, turned_driver, measure):
    """The same head turn, mirrored, turns the photo the other way."""
    turns = []
    for flip in (False, True):
        live = LiveReenactor(get_pipeline("warp"), hopper)
        for frame in [astronaut] * 2 + [turned_driver] * 10:
            out = live.drive(frame, RELATIVE, flip=flip).image
        live.close()
        turns.append(measure.yaw(out) - measure.yaw(hopper))
    assert turns[0] * turns[1] < 0 and min(map(abs, turns)) > 2


def test_live_drops_a_frame_that_comes_while_one_renders(live, driving_frames, monkeypatch):
    rendering, release = threading.Event(), threading.Event()
    render = live.engine.render_batch

    def slow_render(*args):
        rendering.set()
        release.wait(10)
        return render(*args)

    monkeypatch.setattr(live.engine, "render_batch", slow_render)
    results = []
    worker = threading.Thread(target=lambda: results.append(live.drive(driving_frames[0],
                                                                       RELATIVE)))
    worker.start()
    assert rendering.wait(10)
    assert live.drive(driving_frames[1], RELATIVE) is None  # dropped, not queued
    release.set()
    worker.join(10)
    assert results[0] is not None and results[0].face_found


def test_live_photo_is_driven_at_most_output_side(hopper):
    live = LiveReenactor(get_pipeline("warp"), cv2.resize(hopper, (1024, 1200)))
    out = live.drive(hopper, RELATIVE)
    live.close()
    assert max(out.image.shape[:2]) == 512


def test_live_gives_each_frame_at_once_from_an_engine_that_batches(astronaut, driving_frames):
    """The neural engine renders driving frames in batches (2 on a CPU, 8 on CUDA); live,
    each frame's result comes back with it. (The warp engine, told to batch.)"""
    engine = WarpEngine()
    engine.batch_size = 2
    live = LiveReenactor(TransferPipeline(engine), astronaut)
    outs = [live.drive(frame, RELATIVE) for frame in driving_frames[3:6]]
    live.close()
    assert all(out.face_found and out.image.shape == astronaut.shape for out in outs)
    assert not np.array_equal(outs[0].image, outs[2].image)


class _Session:
    def __init__(self, name: str, closed: list[str]):
        self.name, self.closed = name, closed

    def close(self) -> None:
        self.closed.append(self.name)


@pytest.fixture
def slots():
    """One slot, 60 s sessions; ``stream(until, *holders)``: those visitors' webcams send a
    frame every 0.5 s until then; ``claim``: one frame."""
    clock, closed = SimpleNamespace(now=0.0), []
    slots = LiveSlots(1, session_s=60, idle_s=3, clock=lambda: clock.now)

    def claim(holder: str) -> str:
        return slots.claim(holder, lambda: _Session(holder, closed)).name

    def stream(until: float, *holders: str) -> None:
        while clock.now < until:
            clock.now += 0.5
            for holder in holders:
                with contextlib.suppress(BusyError):
                    claim(holder)

    return SimpleNamespace(slots=slots, clock=clock, closed=closed, claim=claim, stream=stream)


def test_live_slot_is_one_visitors_and_the_next_is_told(slots):
    assert slots.claim("a") == "a"
    slots.stream(20, "a")
    with pytest.raises(BusyError, match="You are next; your stream starts by itself in about 40 s"):
        slots.claim("b")
    with pytest.raises(BusyError, match="You are number 2 in line"):
        slots.claim("c")
    slots.slots.release("a")
    assert slots.closed == ["a"]
    with pytest.raises(BusyError, match="You are number 2 in line"):  # b has waited longer
        slots.claim("c")
    assert slots.claim("b") == "b"


def test_live_session_time_limit_passes_the_slot_to_the_next(slots):
    slots.claim("a")
    slots.stream(59, "a", "b")
    assert slots.slots.session("b") is None
    slots.clock.now = 61
    with pytest.raises(BusyError, match="reached its 60 s limit"):
        slots.claim("a")
    assert slots.claim("b") == "b"
    with pytest.raises(BusyError, match="You are next"):
        slots.claim("a")


def test_live_session_goes_on_while_no_one_waits(slots):
    slots.claim("a")
    slots.stream(200, "a")
    assert slots.claim("a") == "a" and slots.closed == []


def test_live_slot_of_a_closed_tab_frees_itself(slots):
    slots.claim("a")
    slots.stream(10, "a", "b")
    slots.stream(13, "b")  # a's frames stopped at 10
    assert slots.slots.session("b") is None
    slots.stream(14, "b")
    assert slots.slots.session("b") is not None and slots.closed == ["a"]


def _webcam_jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]))[1].tobytes()


def test_live_handler_says_what_is_wrong_in_the_status(tmp_path, astronaut, hopper, monkeypatch):
    photo = str(write_image(tmp_path / "astronaut.png", astronaut))
    handlers = LiveHandlers()
    visitor, other = SimpleNamespace(session_hash="a"), SimpleNamespace(session_hash="b")
    settings = ("all", 1.0, True, True)
    frame = _webcam_jpeg(hopper)
    assert handlers.frame(frame, None, *settings, visitor)[1] == NO_PHOTO
    faceless = str(write_image(tmp_path / "coffee.png", data.coffee()))
    reads = []
    monkeypatch.setattr(live_ui, "read_image",
                        lambda *args: reads.append(args) or read_image(*args))
    assert handlers.frame(frame, faceless, *settings, visitor)[1] == \
        "no face found in identity photo"
    assert handlers.frame(frame, faceless, *settings, visitor)[1] == gr.skip()  # still shown
    assert len(reads) == 1
    assert handlers.frame(b"not a jpeg", photo, *settings, visitor)[1] == \
        "cannot read webcam frame: not an image"
    image, status = handlers.frame(frame, photo, *settings, visitor)
    assert image.shape == astronaut.shape and status.startswith("Live:")
    assert handlers.frame(_webcam_jpeg(np.full_like(hopper, 90)), photo, *settings,
                          visitor)[1] == NO_FACE
    assert "The live view is busy" in handlers.frame(frame, photo, *settings, other)[1]
    handlers.stop(visitor)
    assert handlers.frame(frame, photo, *settings, other)[1].startswith("Live:")
    handlers.stop(other)
