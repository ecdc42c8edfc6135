"""The app under concurrent load for minutes: does it keep answering, and does its memory stay flat?

    python bench/soak.py [--clients 8] [--minutes 10] [--port 7885] [--leak-mb 300]

Starts the app as a user would (``python app.py --port PORT``, this environment passed on),
then ``--clients`` visitors, each sending one request after another in turn: an image
transfer, a video reenactment (a 0.8 s clip of the bundled talking driver), an expression edit,
and a Live session (``--live-frames`` webcam frames through the stream protocol the page uses,
one every 0.1 s). Prints the requests completed and failed per kind, the p50/p95 latency
(request to result; a Live session's: its first frame sent to its first result, and how many
of its frames came back rendered), and the app's peak memory
(its process tree, sampled each second with psutil), and how many tracebacks its log holds
(a request that failed with anything but a one-line error).

Exits 3 on a freeze (no request finished, in success or failure, for ``--freeze-s`` = 60 s
while some were in flight) and 4 on a leak (the tree's memory over the run's second half grew
by more than ``--leak-mb``); 0 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import httpx
import psutil
from gradio_client import Client, handle_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deepexpo import ExpressionControls  # noqa: E402
from deepexpo.io.video import Mp4Writer, iter_frames, probe_video  # noqa: E402

EXAMPLES = ROOT / "assets" / "examples"
KINDS = ("image", "video", "edit", "live")
CONTROLS = ("warp", "all", False, 1.0, False, False)  # engine, region, absolute, ... sbs
# face, engine, emotion, intensity, keep, then a slider per control
EDIT = ("largest", "warp", "happy", 1.0, 0.0) + (0.0,) * len(ExpressionControls.names())


@dataclass
class Tally:
    """What the visitors saw, shared between their threads."""

    completed: Counter = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    live_results: list[int] = field(default_factory=list)  # results per Live session
    in_flight: int = 0
    last_done: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def started(self) -> None:
        with self.lock:
            self.in_flight += 1

    def ended(self, kind: str, seconds: list[float] | None, error: str | None = None) -> None:
        with self.lock:
            self.in_flight -= 1
            self.last_done = time.monotonic()
            if error is None:
                self.completed[kind] += 1
                self.latencies[kind].extend(seconds or [])
            else:
                self.failures[kind].append(error)


def short_clip(folder: Path, frames: int = 20) -> Path:
    """The first ``frames`` frames of the bundled talking driver (25 fps)."""
    source = probe_video(EXAMPLES / "driver_talking.mp4")
    path = folder / "talking.mp4"
    with Mp4Writer(path, source.fps) as writer:
        for frame in itertools.islice(iter_frames(source), frames):
            writer.write(frame)
    return path


class LiveVisitor:
    """A Live session as the page runs one: join the stream event, post webcam frames to it,
    read each result from the event stream, close it."""

    def __init__(self, url: str, photo: Path, frame: Path):
        self.url = url
        config = httpx.get(f"{url}config", timeout=30).json()
        self.fn_index, dependency = next(
            (i, d) for i, d in enumerate(config["dependencies"])
            if any(t[1] == "stream" for t in d["targets"]))
        self.trigger = dependency["targets"][0][0]
        self.photo_bytes = photo.read_bytes()
        jpeg = cv2.imencode(".jpg", cv2.imread(str(frame)))[1].tobytes()
        self.frame = {"url": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode(),
                      "meta": {"_type": "gradio.FileData"}}

    def session(self, frames: int, interval_s: float = 0.1) -> tuple[float, int]:
        """Seconds from the first frame sent to the first result (the photo prepared and one
        frame rendered), and how many results came back. (Later results are not paired with
        their frames: a stream drops the frames that arrive while one renders.)"""
        with httpx.Client(base_url=self.url, timeout=120) as http:
            uploaded = http.post("gradio_api/upload", files={
                "files": ("photo.jpg", self.photo_bytes)}).json()[0]
            photo = {"path": uploaded, "meta": {"_type": "gradio.FileData"},
                     "orig_name": "photo.jpg"}
            session = uuid.uuid4().hex[:12]
            # frame, photo, region, strength, relative, mirror, the points tool's face (none)
            body = {"data": [self.frame, photo, "all", 1.0, True, True, None], "event_data": None,
                    "fn_index": self.fn_index, "trigger_id": self.trigger,
                    "session_hash": session}
            results: list[float] = []
            sent: list[float] = []
            failed: list[str] = []
            done = threading.Event()

            def listen() -> None:
                try:
                    with http.stream("GET", f"gradio_api/queue/data?session_hash={session}",
                                     timeout=120) as events:
                        for line in events.iter_lines():
                            if not line.startswith("data:"):
                                continue
                            message = json.loads(line[5:])
                            if message.get("msg") == "process_streaming" and sent:
                                results.append(time.monotonic() - sent[0])
                            elif message.get("msg") == "process_completed":
                                if not message.get("success", True):
                                    failed.append(str(message.get("output")))
                                return
                except httpx.HTTPError as exc:  # the app went away: the session failed
                    failed.append(f"event stream: {exc}")
                finally:
                    done.set()

            event = http.post("gradio_api/queue/join", json=body).json()["event_id"]
            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            for _ in range(frames):
                sent.append(time.monotonic())
                http.post(f"gradio_api/stream/{event}", json=body)
                time.sleep(interval_s)
            http.post(f"gradio_api/stream/{event}/close")
            done.wait(120)
            if failed or not results:
                raise RuntimeError(failed[0] if failed else "no live result came back")
            return results[0], len(results)


def visitor(index: int, url: str, files: dict[str, Path], live: LiveVisitor, args: argparse.Namespace,
            tally: Tally, stop: threading.Event) -> None:
    client = Client(url, verbose=False, download_files=str(files["downloads"] / str(index)))
    for kind in itertools.islice(itertools.cycle(KINDS), index % len(KINDS), None):
        if stop.is_set():
            return
        tally.started()
        start = time.monotonic()
        try:
            if kind == "image":
                client.predict(handle_file(files["astronaut"]), handle_file(files["open_mouth"]),
                               *CONTROLS, api_name="/transfer_image")
            elif kind == "video":
                client.predict(handle_file(files["hopper"]), handle_file(files["clip"]),
                               *CONTROLS, None, api_name="/transfer_video")
            elif kind == "edit":
                client.predict(handle_file(files["hopper"]), *EDIT, api_name="/edit_image")
            else:
                first, shown = live.session(args.live_frames)
                tally.ended(kind, [first])
                tally.live_results.append(shown)
                continue
            tally.ended(kind, [time.monotonic() - start])
        except Exception as exc:  # noqa: BLE001 - a failed request is a figure, not the end
            if stop.is_set():  # cut short by the end of the run, not failed
                return
            tally.ended(kind, None, " ".join(str(exc).split())[:160] or type(exc).__name__)


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


def wait_until_up(url: str, app: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise SystemExit(f"the app exited ({app.returncode}) before it served")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit("the app did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=7885)
    parser.add_argument("--live-frames", type=int, default=20)
    parser.add_argument("--freeze-s", type=float, default=60.0)
    parser.add_argument("--leak-mb", type=float, default=300.0)
    parser.add_argument("--app", type=Path, default=ROOT / "app.py")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="deepexpo-soak-"))
    files = {"astronaut": EXAMPLES / "astronaut.jpg", "hopper": EXAMPLES / "hopper.jpg",
             "open_mouth": EXAMPLES / "driver_open_mouth.jpg", "clip": short_clip(folder),
             "downloads": folder / "downloads"}
    url = f"http://127.0.0.1:{args.port}/"
    log = (folder / "app.log").open("w")
    app = subprocess.Popen([sys.executable, str(args.app), "--port", str(args.port)],
                           cwd=args.app.parent, stdout=log, stderr=subprocess.STDOUT)
    tally, stop, samples = Tally(), threading.Event(), []
    verdict = 0
    try:
        wait_until_up(url, app)
        process = psutil.Process(app.pid)
        live = LiveVisitor(url, files["astronaut"], files["open_mouth"])
        threads = [threading.Thread(target=visitor, args=(i, url, files, live, args, tally, stop),
                                    daemon=True) for i in range(args.clients)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        print(f"{args.clients} clients for {args.minutes:g} min against {url} "
              f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})",
              flush=True)
        while time.monotonic() - start < 60 * args.minutes:
            time.sleep(1.0)
            samples.append((time.monotonic() - start, tree_rss(process)))
            with tally.lock:
                stalled = time.monotonic() - tally.last_done
                busy = tally.in_flight
            if busy and stalled > args.freeze_s:
                print(f"FREEZE: no request finished for {stalled:.0f} s with {busy} in flight",
                      flush=True)
                verdict = 3
                break
            if len(samples) % 30 == 0:
                print(f"  {samples[-1][0]:4.0f} s: {sum(tally.completed.values())} done, "
                      f"{sum(map(len, tally.failures.values()))} failed, "
                      f"{samples[-1][1] / 2**20:.0f} MB", flush=True)
        stop.set()
        log.flush()
        tracebacks = (folder / "app.log").read_text(errors="replace").count("Traceback")
        print(f"tracebacks in the app's log during the run: {tracebacks}")
    finally:
        stop.set()
        app.terminate()
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()

    for kind in KINDS:
        done = tally.completed[kind]
        times = tally.latencies[kind]
        timing = (f", p50 {statistics.median(times):.2f} s, p95 {percentile(times, 0.95):.2f} s"
                  if times else "")
        failures = tally.failures[kind]
        print(f"{kind:6s}: {done} completed, {len(failures)} failed{timing}"
              + (f" (first: {failures[0]})" if failures else ""))
    if tally.live_results:
        print(f"live sessions: median {statistics.median(tally.live_results):.0f} results of "
              f"{args.live_frames} frames sent")
    everything = [t for k in KINDS if k != "live" for t in tally.latencies[k]]
    if everything:
        print(f"image+video+edit requests: p50 {statistics.median(everything):.2f} s, "
              f"p95 {percentile(everything, 0.95):.2f} s")
    if samples:
        peak = max(rss for _, rss in samples)
        half = [rss for t, rss in samples if t >= samples[-1][0] / 2]
        head, tail = half[: max(len(half) // 10, 1)], half[-max(len(half) // 10, 1):]
        growth = (statistics.median(tail) - statistics.median(head)) / 2**20
        print(f"app memory (process tree): peak {peak / 2**20:.0f} MB; over the second half "
              f"{statistics.median(head) / 2**20:.0f} -> {statistics.median(tail) / 2**20:.0f} MB "
              f"({growth:+.0f} MB)")
        if verdict == 0 and growth > args.leak_mb:
            print(f"LEAK: memory grew {growth:.0f} MB over the second half "
                  f"(threshold {args.leak_mb:.0f} MB)")
            verdict = 4
    print(f"app log: {folder / 'app.log'}")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
