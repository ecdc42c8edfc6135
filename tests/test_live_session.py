"""The Live tab without a browser: the library's per-frame reenactor, the slots that say who may
stream, and the tab's handler (``pytest -k live``). Webcam frames are bundled photos, their
motion known; results are measured with the project's landmarks."""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
from deepexpo.ui.handlers import NO_FACE_HINT
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
    settings = ("all", 1.0, True, True, None)  # region, strength, relative, mirror, no points
    frame = _webcam_jpeg(hopper)
    assert handlers.frame(frame, None, *settings, visitor)[1] == NO_PHOTO
    faceless = str(write_image(tmp_path / "coffee.png", data.coffee()))
    reads = []
    monkeypatch.setattr(live_ui, "read_image",
                        lambda *args: reads.append(args) or read_image(*args))
    assert handlers.frame(frame, faceless, *settings, visitor)[1] == \
        f"no face found in identity photo; {NO_FACE_HINT}"
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


def _blank_png(width: int, height: int) -> bytes:
    """A real, whole PNG of ``width`` x ``height`` black pixels, written row by row: a few
    hundred KB on the wire that decode to gigabytes."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))

    packer, row = zlib.compressobj(9), b"\x00" * (1 + 3 * width)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


@pytest.mark.timeout(60)
def test_live_refuses_a_huge_frame_from_its_header(tmp_path, astronaut):
    """The issue's 420 KB PNG of 12000x12000 as a webcam frame: 1.18 GB and 11 s before the
    limit message. Refused from its header, at once and without decoding it."""
    import psutil

    photo = str(write_image(tmp_path / "astronaut.png", astronaut))
    bomb = _blank_png(12000, 12000)
    assert len(bomb) < 600_000
    handlers = LiveHandlers()
    process, peak, done = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)

    before = process.memory_info().rss
    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    try:
        status = handlers.frame(bomb, photo, "all", 1.0, True, True, None,
                                SimpleNamespace(session_hash="big"))[1]
    finally:
        done.set()
        sampler.join()
    elapsed = time.perf_counter() - start
    assert status == "webcam frame is 12000x12000 pixels; the limit is 8 megapixels"
    assert elapsed < 2.0 and peak[0] - before < 200 * 2**20


@pytest.mark.timeout(120)
def test_live_first_frames_arriving_together_share_one_reenactor(tmp_path, astronaut, hopper,
                                                                 monkeypatch):
    """Three first frames of one visitor at once: one prepares the photo, the others wait for
    it (before: ``TypeError: NoneType takes no arguments`` in ``reenactor_for``)."""
    photo = str(write_image(tmp_path / "astronaut.png", astronaut))
    made = []

    class SlowReenactor(LiveReenactor):
        def __init__(self, *args, **kwargs):
            time.sleep(0.5)  # preparing a photo takes a while; the others arrive meanwhile
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(live_ui, "LiveReenactor", SlowReenactor)
    handlers = LiveHandlers()
    frame, visitor = _webcam_jpeg(hopper), SimpleNamespace(session_hash="same")
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: handlers.frame(frame, photo, "all", 1.0, True, True, None,
                                                         visitor), range(3)))
    assert len(made) == 1
    rendered = [image for image, _ in results if isinstance(image, np.ndarray)]
    assert rendered and all(image.shape == astronaut.shape for image in rendered)
    handlers.stop(visitor)


def test_every_queued_endpoint_has_a_concurrency_limit():
    """Work shares two places; a Live stream holds one of ``LIVE.streams`` while it runs (its
    visitor holds a slot or is told their place in line); nothing is unbounded."""
    from deepexpo.ui import build_demo
    from deepexpo.ui.config import APP_CONCURRENCY
    from deepexpo.ui.config import LIVE_TAB as LIVE

    demo = build_demo()
    try:
        queued = [fn for fn in demo.fns.values() if fn.queue is not False]
        assert queued and all(fn.concurrency_limit is not None for fn in queued)
        assert demo._queue.default_concurrency_limit == 1  # what "default" stands for
        limits = {fn.name: (fn.concurrency_id, fn.concurrency_limit) for fn in queued}
        assert limits["frame"][1] == LIVE.streams
        assert limits["transfer_video"] == ("work", APP_CONCURRENCY.work)
    finally:
        demo.storage.remove()
