"""The batch executors: ``animate`` and ``evaluate`` give the same outputs and metrics on the
local pool, in this process and on Ray, and a rerun skips the rows (or scored items) already
written."""

import json
from pathlib import Path

import numpy as np
import pytest

from deepexpo.cli import main
from deepexpo.io.images import read_image, write_image
from deepexpo.io.video import Mp4Writer

from .conftest import read_frames


@pytest.fixture
def pairs(tmp_path, astronaut, open_mouth_driver) -> Path:
    """Five rows, row 3 naming a photo that is not there, row 5 driven by a 3-frame clip."""
    small, opened = astronaut[::2, ::2].copy(), open_mouth_driver[::2, ::2].copy()
    write_image(tmp_path / "astronaut.png", small)
    write_image(tmp_path / "open.png", opened)
    with Mp4Writer(tmp_path / "talk.mp4", 10) as writer:
        for frame in (small, opened, small):
            writer.write(frame)
    path = tmp_path / "pairs.csv"
    path.write_text("source,driving\nastronaut.png,open.png\nopen.png,astronaut.png\n"
                    "missing.png,open.png\nastronaut.png,astronaut.png\nastronaut.png,talk.mp4\n")
    return path


def _animate(pairs: Path, output: Path, *extra: str) -> int:
    return main(["animate", "--pairs", str(pairs), "--output", str(output), "--engine", "warp",
                 *extra])


def _outputs(folder: Path) -> dict[str, list[np.ndarray]]:
    """Each output's frames (one for an image)."""
    return {p.name: read_frames(p) if p.suffix == ".mp4" else [read_image(p)]
            for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is optional: requirements-cluster.txt")
    # One GPU, for Ray to count (no task here uses it)
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.timeout(300)
def test_ray_gives_the_local_pools_outputs_and_reports_the_bad_row(pairs, tmp_path, local_ray,
                                                                   capsys):
    assert _animate(pairs, tmp_path / "local") == 1
    capsys.readouterr()
    assert _animate(pairs, tmp_path / "ray", "--ray") == 1
    captured = capsys.readouterr()
    assert "4 of 5 pairs written" in captured.out and "rows 3" in captured.out
    assert "row 3" in captured.err and "missing.png" in captured.err
    local, on_ray = _outputs(tmp_path / "local"), _outputs(tmp_path / "ray")
    assert list(on_ray) == ["0001_astronaut_open.png", "0002_open_astronaut.png",
                            "0004_astronaut_astronaut.png", "0005_astronaut_talk.mp4"]
    assert list(local) == list(on_ray)
    assert len(on_ray["0005_astronaut_talk.mp4"]) == 3
    for name, frames in local.items():
        assert len(on_ray[name]) == len(frames), name
        for index, frame in enumerate(frames):
            np.testing.assert_array_equal(on_ray[name][index], frame, err_msg=f"{name} {index}")


@pytest.mark.timeout(300)
def test_a_rerun_skips_the_rows_written_and_force_redoes_them(pairs, tmp_path, capsys):
    out = tmp_path / "out"
    assert _animate(pairs, out) == 1
    written = out / "0001_astronaut_open.png"
    first = written.stat().st_mtime_ns
    (out / "0002_open_astronaut.png").unlink()  # as if the first run had stopped there
    capsys.readouterr()
    assert _animate(pairs, out) == 1
    captured = capsys.readouterr()
    assert "4 of 5 pairs written" in captured.out and "(3 already there" in captured.out
    assert written.stat().st_mtime_ns == first
    assert (out / "0002_open_astronaut.png").is_file()
    assert _animate(pairs, out, "--force") == 1
    assert "already there" not in capsys.readouterr().out
    assert written.stat().st_mtime_ns != first


def test_ray_without_ray_installed_is_a_one_line_error(pairs, tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    assert _animate(pairs, tmp_path / "out", "--ray") == 2
    err = capsys.readouterr().err.strip()
    assert "pip install -r requirements-cluster.txt" in err and "\n" not in err


@pytest.mark.timeout(300)
def test_a_ray_task_whose_worker_dies_is_retried(tmp_path, local_ray):
    from deepexpo.evaluation.executors import RayCluster

    def die_once(index: int, marker: str) -> int:
        import os

        if index == 2 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies: no row error, Ray retries the task
        return index * 10

    marker = str(tmp_path / "died")
    tasks = [(i, marker) for i in range(1, 5)]
    assert sorted(RayCluster().map_unordered(die_once, tasks)) == [10, 20, 30, 40]
    assert Path(marker).is_file()


@pytest.mark.timeout(300)
def test_tasks_with_a_share_of_a_gpu_reuse_their_workers(local_ray):
    """Ray gives each GPU task a fresh process unless told otherwise: the engine would load
    for every row."""
    import os

    from deepexpo.evaluation.executors import RayCluster

    tasks = [(i,) for i in range(6)]
    pids = set(RayCluster(gpus_per_task=0.5).map_unordered(lambda i: os.getpid(), tasks))
    assert 1 <= len(pids) <= 2  # two tasks fit on the GPU at once


def _evaluate(pairs: Path, report: Path, *extra: str) -> dict:
    assert main(["evaluate", "cross", "--pairs", str(pairs), "--report", str(report),
                 "--engine", "warp", *extra]) == 1  # row 3 skipped
    return json.loads((report / "metrics.json").read_text())


@pytest.mark.timeout(400)
def test_evaluate_cross_on_ray_writes_the_same_metrics_and_a_rerun_reuses_its_scores(
        pairs, tmp_path, local_ray, capsys):
    here = _evaluate(pairs, tmp_path / "here")
    on_ray = _evaluate(pairs, tmp_path / "ray", "--ray")
    assert on_ray == here
    assert [Path(p["driving"]).name for p in here["pairs"]] == [
        "open.png", "astronaut.png", "astronaut.png", "talk.mp4"]
    assert all(p["face_rate"] == 1.0 and p["csim"] > 0.9 for p in here["pairs"])
    assert [(Path(s["source"]).name, s["error"]) for s in on_ray["skipped"]] == [
        ("missing.png", here["skipped"][0]["error"])]
    assert "missing.png" in capsys.readouterr().err

    # As if the Ray run had stopped before its last pair: the rerun (in two worker processes)
    # scores that pair only and reads the others from the cache.
    cached = sorted((tmp_path / "ray" / "scores").glob("*.npz"))
    assert len(cached) == 4
    times = {p.name: p.stat().st_mtime_ns for p in cached}
    lost = next(p for p in cached if p.name.startswith("astronaut-talk-"))
    lost.unlink()
    assert _evaluate(pairs, tmp_path / "ray", "--workers", "2") == here
    assert lost.is_file()
    kept = [p for p in cached if p != lost]
    assert all(p.stat().st_mtime_ns == times[p.name] for p in kept)
    assert _evaluate(pairs, tmp_path / "ray", "--force") == here
    assert all(p.stat().st_mtime_ns != times[p.name] for p in kept)
