"""``train neural``: the tiny LivePortrait-layout networks trained on small face clips cut from
the shared sample videos (skipped without ../shared): the loss falls, a resumed run continues
the very same curve, the checkpoint drives the neural engine, bad data is one line."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from deepexpo.cli import main
from deepexpo.engines import create_engine
from deepexpo.io.images import read_image, write_image
from deepexpo.io.video import Mp4Writer, iter_frames, probe_video
from deepexpo.neural import losses
from deepexpo.neural.checkpoints import LivePortraitNetworks, published_config
from deepexpo.neural.clips import open_clips
from deepexpo.neural.training import NeuralTrainer, RunFolder, read_losses, starting_networks
from deepexpo.testing.tiny_liveportrait import TINY, tiny_networks

from .conftest import SHARED, shared_sample

CLIP_SIDE = 128  # what the held-back clip is evaluated at (MediaPipe and dlib find faces)
TRAIN_SIDE = "32"  # the networks' input while training: the tiny networks at CPU speed


def write_clip(path: Path, frames: list[np.ndarray]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with Mp4Writer(path, 25) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def face_frames(sample: str, count: int, step: int = 3) -> list[np.ndarray]:
    """Frames of a shared face video (already square face crops), resized to clip size."""
    frames = iter_frames(probe_video(shared_sample(f"driving/{sample}.mp4")))
    return [cv2.resize(f, (CLIP_SIDE, CLIP_SIDE), interpolation=cv2.INTER_AREA)
            for f in itertools.islice(frames, 0, count * step, step)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Two training clips in subfolders and a third that sorts last: the held-back one."""
    root = tmp_path_factory.mktemp("clips")
    write_clip(root / "a" / "d0.mp4", face_frames("d0", 16))
    write_clip(root / "b" / "d12.mp4", face_frames("d12", 16))
    write_clip(root / "c" / "d19.mp4", face_frames("d19", 10))
    return root


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.yaml"
    path.write_text(json.dumps(TINY))  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def one_thread():
    """Two threads on a shared 2-core machine oversubscribe it (a step takes 5x longer)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train(clips: Path, run: Path, config: Path, *extra: str) -> int:
    return main(["train", "neural", "--data", str(clips), "--output", str(run), "--from",
                 "scratch", "--config", str(config), "--size", TRAIN_SIDE, "--batch", "2",
                 "--lr", "2e-3", "--workers", "0", *extra])


@pytest.fixture(scope="module")
def trained(clips, tiny_config, one_thread, tmp_path_factory) -> Path:
    """40 steps, a grid every 20, the third clip held back and evaluated at the end. Frames
    are read in this process (--workers 0): a DataLoader worker sets torch's SIGCHLD handler
    for the whole test process, and in a process where OpenVINO has run (the CPU runtime's
    tests) that handler crashed the interpreter (SIGSEGV in ld.so's lazy-binding resolver)
    when a subprocess ended. The torchrun test trains in processes of its own."""
    run = tmp_path_factory.mktemp("run") / "run"
    assert train(clips, run, tiny_config, "--steps", "40", "--vis-every", "20") == 0
    return run


def test_forty_steps_lower_the_reconstruction_loss(trained):
    rows = read_losses(trained / "losses.csv")
    assert [r["step"] for r in rows] == list(range(1, 41))
    l1 = np.array([r["l1"] for r in rows])
    start, end = l1[:10].mean(), l1[-10:].mean()
    print(f"L1 (mean of 10 steps): start {start:.4f} -> end {end:.4f}")
    assert end < 0.8 * start
    assert all(np.isfinite(r["equivariance"]) and "pyramid" in r for r in rows)
    grid = read_image(trained / "vis" / "step_000040.png")
    assert grid.shape == (2 * 64, 4 * 64, 3)  # 2 pairs x (source, driving, prediction, occlusion)
    assert (trained / "vis" / "step_000020.png").is_file()
    log = (trained / "train.log").read_text()
    assert "multi-scale pixel L1 (no VGG19 weights on disk" in log
    assert "step 40: checkpoint written" in log


def test_the_held_back_clip_is_evaluated(trained):
    metrics = json.loads((trained / "eval" / "metrics.json").read_text())
    assert metrics["engine"] == "neural"
    assert [v["name"] for v in metrics["videos"]] == ["d19"]
    assert metrics["videos"][0]["frames"] == 10
    assert (trained / "eval" / "report.html").is_file()


def test_the_checkpoint_drives_the_neural_engine(trained, astronaut, open_mouth_driver,
                                                 tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPEXPO_NEURAL_WEIGHTS", str(trained))
    engine = create_engine("neural")
    saved = RunFolder(trained).load_networks().fold()
    for name, value in saved.state_dict().items():
        assert torch.equal(engine.networks.state_dict()[name].cpu(), value), name
    write_image(tmp_path / "source.png", astronaut)
    write_image(tmp_path / "driver.png", open_mouth_driver)
    out = tmp_path / "out.png"
    assert main(["transfer", "--source", str(tmp_path / "source.png"), "--driving",
                 str(tmp_path / "driver.png"), "--output", str(out), "--engine", "neural"]) == 0
    rendered = read_image(out)
    assert rendered.shape == astronaut.shape and not np.array_equal(rendered, astronaut)


def test_a_resumed_run_continues_the_same_curve(clips, tiny_config, one_thread, tmp_path):
    common = ("--holdout", "0", "--save-every", "3", "--vis-every", "100")
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train(clips, straight, tiny_config, "--steps", "6", *common) == 0
    assert train(clips, split, tiny_config, "--steps", "3", *common) == 0
    assert main(["train", "neural", "--data", str(clips), "--output", str(split), "--resume",
                 "--steps", "6"]) == 0
    a, b = read_losses(straight / "losses.csv"), read_losses(split / "losses.csv")
    assert [r["step"] for r in b] == [1, 2, 3, 4, 5, 6]
    for x, y in zip(a, b, strict=True):
        assert x == pytest.approx(y, rel=1e-4, abs=1e-6)
    state_a, state_b = RunFolder(straight).load_state(), RunFolder(split).load_state()
    assert state_a["step"] == state_b["step"] == 6
    moments_a, moments_b = state_a["optimizer"]["state"], state_b["optimizer"]["state"]
    assert moments_a.keys() == moments_b.keys()
    for key in moments_a:
        assert float(moments_a[key]["step"]) == float(moments_b[key]["step"]) == 6
        assert torch.allclose(moments_a[key]["exp_avg_sq"], moments_b[key]["exp_avg_sq"],
                              rtol=1e-3, atol=1e-9)


def test_a_run_is_not_overwritten_nor_resumed_past_its_end(clips, tiny_config, trained,
                                                           tmp_path, capsys):
    assert train(clips, trained, tiny_config, "--steps", "41") == 2
    assert "holds a run: add --resume" in capsys.readouterr().err
    assert main(["train", "neural", "--data", str(clips), "--output", str(tmp_path / "new"),
                 "--resume"]) == 2
    assert "holds no run to resume" in capsys.readouterr().err
    assert main(["train", "neural", "--data", str(clips), "--output", str(trained),
                 "--resume", "--steps", "40"]) == 2
    assert "at step 40 already" in capsys.readouterr().err


def _one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_bad_data_is_one_line(tmp_path, tiny_config, capsys):
    run = str(tmp_path / "run")
    base = ["train", "neural", "--output", run, "--from", "scratch", "--config", str(tiny_config),
            "--size", TRAIN_SIDE]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .mp4 clips in" in _one_line_error(capsys, [*base, "--data", str(empty)])
    bad = tmp_path / "bad"
    write_clip(bad / "still.mp4", [np.full((64, 64, 3), 128, np.uint8)])
    (bad / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    err = _one_line_error(capsys, [*base, "--data", str(bad)])
    assert "no usable clip" in err and "'still.mp4' has one frame" in err
    assert "'broken.mp4' not a readable video" in err
    assert "is not a clips index" in _one_line_error(
        capsys, [*base, "--data", str(_with_index(tmp_path / "indexed", "{not json"))])
    assert "--size must be a multiple of 32" in _one_line_error(
        capsys, [*base[:-1], "48", "--data", str(_clips_for(tmp_path / "good"))])
    assert not (tmp_path / "run" / "liveportrait").exists()


def _with_index(folder: Path, text: str) -> Path:
    folder.mkdir()
    (folder / "clips.json").write_text(text)
    return folder


def _clips_for(folder: Path) -> Path:
    write_clip(folder / "moving.mp4", [np.roll(np.eye(64, dtype=np.uint8)[..., None] * 255, i, 1)
                                       .repeat(3, 2) for i in range(4)])
    return folder


def test_clips_json_lists_the_clips(tmp_path):
    _clips_for(tmp_path / "data" / "kept")
    _clips_for(tmp_path / "data" / "unlisted")
    (tmp_path / "data" / "clips.json").write_text(json.dumps(
        {"size": 64, "clips": [{"path": "kept/moving.mp4", "frames": 4, "fps": 25}]}))
    found = open_clips(tmp_path / "data")
    assert [(c.path.parent.name, c.frames, c.side) for c in found] == [("kept", 4, 64)]


def test_vgg19_weights_on_disk_give_the_perceptual_loss(tmp_path, monkeypatch):
    """torchvision's VGG19 file layout (random weights: only the loading and the loss's
    behaviour are checked), found through DEEPEXPO_VGG19_WEIGHTS."""
    torch.manual_seed(0)
    state, width, index = {}, 3, 0
    for spec in losses._VGG19_LAYERS:
        if spec != "M":
            state[f"features.{index}.weight"] = torch.randn(spec, width, 3, 3) * 0.05
            state[f"features.{index}.bias"] = torch.zeros(spec)
            width, index = spec, index + 2
        else:
            index += 1
    state["classifier.0.weight"] = torch.zeros(1)  # the rest of the file is ignored
    torch.save(state, tmp_path / losses.VGG19_FILE)
    monkeypatch.setenv(losses.VGG19_ENV, str(tmp_path / losses.VGG19_FILE))
    loss = losses.ReconstructionLoss(losses.vgg19_weights())
    assert "VGG19 perceptual" in loss.description
    image = torch.rand(1, 3, 64, 64)
    same = loss(image, image)
    assert set(same) == {"l1", "perceptual"} and float(same["perceptual"]) == 0.0
    assert float(loss(image, image.flip(-1))["perceptual"]) > 0.0


def test_torchrun_trains_on_two_processes_with_the_stitching_mlp(clips, tiny_config, tmp_path):
    """DDP over gloo on the CPU: two processes, one run folder; the stitching MLP trains when
    asked, the eye and lip MLPs never do."""
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m",
         "deepexpo", "train", "neural", "--data", str(clips), "--output", str(run), "--from",
         "scratch", "--config", str(tiny_config), "--size", TRAIN_SIDE, "--batch", "1",
         "--steps", "2", "--holdout", "0", "--workers", "0", "--train-stitching"],
        env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 steps in" in (run / "train.rank1.log").read_text()
    assert [r["step"] for r in read_losses(run / "losses.csv")] == [1, 2]
    assert "stitching" in read_losses(run / "losses.csv")[0]
    trained = RunFolder(run).load_networks().stitching_retargeting_module
    initial = starting_networks("scratch", str(tiny_config), 0).stitching_retargeting_module
    assert not torch.equal(trained.stitching.mlp[0].weight, initial.stitching.mlp[0].weight)
    for frozen in ("eye", "lip"):
        assert torch.equal(getattr(trained, frozen).mlp[0].weight,
                           getattr(initial, frozen).mlp[0].weight)


def test_fine_tuning_starts_from_the_published_files(clips, one_thread, tmp_path, monkeypatch,
                                                     capsys):
    """``--from published`` takes the files the neural engine would (here the shared small
    networks, through DEEPEXPO_NEURAL_WEIGHTS); the frozen stitching file comes out as it
    went in. Without them it is the engine's one-line 'not downloaded' error."""
    run = tmp_path / "tuned"
    argv = ["train", "neural", "--data", str(clips), "--output", str(run), "--size", TRAIN_SIDE,
            "--batch", "1", "--steps", "1", "--holdout", "0", "--workers", "0"]
    assert "the neural engine needs the LivePortrait networks" in _one_line_error(capsys, argv)
    small = SHARED / "fixtures" / "liveportrait-small"
    if not small.is_dir():
        pytest.skip("../shared/fixtures/liveportrait-small is not present")
    monkeypatch.setenv("DEEPEXPO_NEURAL_WEIGHTS", str(small))
    assert main(argv) == 0
    published = LivePortraitNetworks.from_published(small, published_config(small), fold=False)
    tuned = RunFolder(run).load_networks()
    assert tuned.config == published.config
    assert not torch.equal(tuned.state_dict()["spade_generator.fc.bias"],
                           published.state_dict()["spade_generator.fc.bias"])
    for name, value in published.stitching_retargeting_module.state_dict().items():
        assert torch.equal(tuned.stitching_retargeting_module.state_dict()[name], value)


def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    run = RunFolder(tmp_path)
    networks = tiny_networks(fold=False)
    run.save(networks, {"step": 1})
    real_replace = os.replace

    def dies_on_the_swap(src, dst):
        if Path(dst) == run.checkpoint:
            raise KeyboardInterrupt  # between moving the old one aside and the new one in
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", dies_on_the_swap)
    with pytest.raises(KeyboardInterrupt):
        run.save(networks, {"step": 2})
    monkeypatch.setattr(os, "replace", real_replace)
    assert not run.checkpoint.exists() and not list(tmp_path.glob(".*partial*"))
    assert RunFolder(tmp_path).has_checkpoint() and run.load_state()["step"] == 1


def test_an_interrupted_run_says_what_is_kept_and_resumes_from_it(clips, tiny_config, one_thread,
                                                                 tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"

    def interrupted(self, batch, out):  # Ctrl-C at step 3, after its losses were recorded
        raise KeyboardInterrupt

    write_grid = NeuralTrainer._write_grid
    monkeypatch.setattr(NeuralTrainer, "_write_grid", interrupted)
    assert train(clips, run, tiny_config, "--steps", "5", "--save-every", "2", "--vis-every",
                 "3", "--holdout", "0") == 130
    assert "interrupted at step 3; the checkpoint of step 2 is kept" in capsys.readouterr().err
    monkeypatch.setattr(NeuralTrainer, "_write_grid", write_grid)
    assert main(["train", "neural", "--data", str(clips), "--output", str(run), "--resume",
                 "--steps", "4"]) == 0
    assert [r["step"] for r in read_losses(run / "losses.csv")] == [1, 2, 3, 4]
