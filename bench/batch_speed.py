"""Batch throughput of ``animate`` on each executor, side by side in one run.

    python bench/batch_speed.py [--rows N] [--engine warp]

Renders the same ``source,driving`` image rows (the shared sample photos and driving images,
else scikit-image's astronaut and matplotlib's Grace Hopper) on 1 and 2 local worker
processes and on a local Ray with 1 and 2 CPUs (one task per CPU), every row redone
(``force``). Prints per executor: the wall time of the whole batch (worker start and model
loading included, as a user waits for it), rows per minute, and the time to the first row;
Ray's own start (``ray.init``, which a running cluster has already paid) separately. Then Ray's
overhead per task: the wall time per no-op task on warm workers, against the local pool's.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepexpo.evaluation.animate import animate  # noqa: E402
from deepexpo.evaluation.executors import Executor, LocalPool, RayCluster  # noqa: E402
from deepexpo.io.images import write_image  # noqa: E402
from deepexpo.runtime import quiet_native_stderr  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "samples"


def write_pairs(folder: Path, rows: int, video: bool) -> Path:
    """A pairs csv of ``rows`` rows: real photos driven by a photo, or by a 78-frame clip."""
    sources = [SHARED / "sources" / f"s{n}.jpg" for n in (1, 12, 42, 10)]
    drivers = ([SHARED / "driving" / "d0.mp4"] if video else
               [SHARED / "driving" / name for name in ("d8.jpg", "d19.jpg")])
    if not all(p.is_file() for p in sources + drivers):
        from transfer_speed import hopper, make_driving_video

        write_image(folder / "astronaut.png", data.astronaut())
        write_image(folder / "hopper.png", hopper(720))
        sources = [folder / "astronaut.png", folder / "hopper.png"]
        drivers = [make_driving_video(folder / "driving.mp4", 78)] if video else sources
    cells = [(s, d) for s in sources for d in drivers]
    path = folder / f"{'video' if video else 'photo'}_pairs.csv"
    path.write_text("".join(f"{s},{d}\n" for s, d in (cells * rows)[:rows]))
    return path


def batch(pairs: Path, output: Path, engine: str, executor: Executor) -> tuple[float, float]:
    """Seconds for the whole batch and to its first row."""
    first: list[float] = []
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done and not first:
            first.append(time.perf_counter() - start)

    outcomes = animate(pairs, output, engine, executor, force=True, progress=progress)
    failed = [o for o in outcomes if o.error]
    if failed:
        raise SystemExit(f"{len(failed)} rows failed: {failed[0].error}")
    return time.perf_counter() - start, first[0]


def noop(index: int) -> int:
    return index


def per_task(executor: Executor, tasks: int) -> float:
    """Seconds per no-op task, the workers warmed by a first round."""
    list(executor.map_unordered(noop, [(i,) for i in range(8)]))
    start = time.perf_counter()
    list(executor.map_unordered(noop, [(i,) for i in range(tasks)]))
    return (time.perf_counter() - start) / tasks


@contextlib.contextmanager
def local_ray(cpus: int) -> Iterator[float]:
    """A local Ray of ``cpus`` CPUs for the block; the seconds its start took."""
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
             object_store_memory=256 * 2**20, logging_level=logging.ERROR)
    try:
        yield time.perf_counter() - start
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo-rows", type=int, default=8)
    parser.add_argument("--video-rows", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2, help="rounds; the best is printed")
    parser.add_argument("--engine", default="warp")
    parser.add_argument("--noop-tasks", type=int, default=200)
    args = parser.parse_args()
    quiet_native_stderr()  # MediaPipe's C++ notices, in every worker
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        batches = {"photo": (write_pairs(folder, args.photo_rows, False), args.photo_rows),
                   "video": (write_pairs(folder, args.video_rows, True), args.video_rows)}
        print(f"{args.engine} engine; rows: {args.photo_rows} photo-driven, {args.video_rows} "
              "driven by a 78-frame 512 px clip; every row redone; best of "
              f"{args.repeats} rounds, the executors alternating", flush=True)
        where = [f"local pool, {n} proc" for n in (1, 2)] + ["Ray, 1 worker", "Ray, 2 workers"]
        best: dict[tuple[str, str], tuple[float, float]] = {}
        starts: list[float] = []
        for _ in range(args.repeats):
            for kind, (pairs, _) in batches.items():
                for name, workers in zip(where, (1, 2, 1, 2), strict=True):
                    output = folder / f"{name}-{kind}"
                    if name.startswith("Ray"):  # a fresh Ray: its workers start, as the pool's do
                        with local_ray(workers) as started:
                            timing = batch(pairs, output, args.engine, RayCluster())
                        starts.append(started)
                    else:
                        timing = batch(pairs, output, args.engine, LocalPool(workers))
                    best[name, kind] = min(best.get((name, kind), timing), timing)
        for kind, (_, rows) in batches.items():
            for name in where:
                seconds, first = best[name, kind]
                print(f"{name:<20} {kind} rows: {seconds:6.1f} s, {60 * rows / seconds:6.1f} "
                      f"rows/min, first row after {first:5.1f} s", flush=True)
        print(f"ray.init (not counted above; a running cluster has paid it): median "
              f"{statistics.median(starts):.1f} s", flush=True)
        with local_ray(2):
            ray_task = per_task(RayCluster(), args.noop_tasks)
        local_task = per_task(LocalPool(2), args.noop_tasks)
        print(f"overhead per no-op task over {args.noop_tasks}: Ray {1000 * ray_task:.1f} ms "
              f"(2 warm workers), local pool {1000 * local_task:.1f} ms (its 2 processes' start "
              "included)", flush=True)


if __name__ == "__main__":
    main()
