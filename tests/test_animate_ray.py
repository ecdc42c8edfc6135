"""``animate``'s executors: the local pool and Ray give the same outputs, and a rerun skips
the rows already written."""

from pathlib import Path

import numpy as np
import pytest

from deepexpo.cli import main
from deepexpo.io.images import read_image, write_image


@pytest.fixture
def pairs(tmp_path, astronaut, open_mouth_driver) -> Path:
    """Four rows, row 3 naming a photo that is not there."""
    small = astronaut[::2, ::2].copy()
    write_image(tmp_path / "astronaut.png", small)
    write_image(tmp_path / "open.png", open_mouth_driver[::2, ::2].copy())
    path = tmp_path / "pairs.csv"
    path.write_text("source,driving\nastronaut.png,open.png\nopen.png,astronaut.png\n"
                    "missing.png,open.png\nastronaut.png,astronaut.png\n")
    return path


def _animate(pairs: Path, output: Path, *extra: str) -> int:
    return main(["animate", "--pairs", str(pairs), "--output", str(output), "--engine", "warp",
                 *extra])


def _images(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: read_image(p) for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is optional: requirements-cluster.txt")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.timeout(300)
def test_ray_gives_the_local_pools_outputs_and_reports_the_bad_row(pairs, tmp_path, local_ray,
                                                                   capsys):
    assert _animate(pairs, tmp_path / "local") == 1
    capsys.readouterr()
    assert _animate(pairs, tmp_path / "ray", "--ray") == 1
    captured = capsys.readouterr()
    assert "3 of 4 pairs written" in captured.out and "rows 3" in captured.out
    assert "row 3" in captured.err and "missing.png" in captured.err
    local, on_ray = _images(tmp_path / "local"), _images(tmp_path / "ray")
    assert list(on_ray) == ["0001_astronaut_open.png", "0002_open_astronaut.png",
                            "0004_astronaut_astronaut.png"]
    assert list(local) == list(on_ray)
    for name, image in local.items():
        np.testing.assert_array_equal(on_ray[name], image, err_msg=name)


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
    assert "3 of 4 pairs written" in captured.out and "(2 already there" in captured.out
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
