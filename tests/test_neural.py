"""The neural engine: our networks against the reference implementation's outputs (fixtures in
../shared), the published key layout, and the engine end to end with tiny random networks."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from deepexpo.cli import main
from deepexpo.engines import create_engine
from deepexpo.engines.neural_engine import NeuralEngine
from deepexpo.engines.warp_engine import WarpEngine
from deepexpo.errors import CheckpointError, InputError
from deepexpo.face.crop import FaceCrop
from deepexpo.io.images import read_image, write_image
from deepexpo.io.video import probe_video
from deepexpo.motion.compose import MotionOptions, compose_pose
from deepexpo.motion.controls import ExpressionControls, ExpressionEdit
from deepexpo.motion.state import HeadPose
from deepexpo.neural.checkpoints import LivePortraitNetworks
from deepexpo.neural.keypoints import (
    KeypointMotion,
    KeypointTarget,
    driven_expression,
    retarget,
    stitch,
)
from deepexpo.neural.network_config import NeuralConfig
from deepexpo.pipeline import TransferPipeline

from .conftest import SHARED, shared_sample

WEIGHTS_ENV = "DEEPEXPO_NEURAL_WEIGHTS"
from deepexpo.testing.tiny_liveportrait import TINY, published_state, tiny_networks  # noqa: E402

SMALL = SHARED / "fixtures" / "liveportrait-small"
MANIFEST = SHARED / "fixtures" / "full_size_state_dict_manifest.json"

@pytest.fixture(scope="module")
def tiny() -> LivePortraitNetworks:
    return tiny_networks()


def _motion(batch: int, seed: int) -> KeypointMotion:
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.rand(*s, generator=g) - 0.5  # noqa: E731
    return KeypointMotion(20 * r(batch, 1), 20 * r(batch, 1), 20 * r(batch, 1), 0.2 * r(batch, 3),
                          0.05 * r(batch, 21, 3), 1 + 0.2 * r(batch, 1), r(batch, 21, 3))


# --- equivalence with the reference implementation (fixtures) --------------------------------

@pytest.fixture(scope="module")
def small():
    if not SMALL.is_dir():
        pytest.skip("../shared/fixtures/liveportrait-small is not present")
    nets = LivePortraitNetworks.from_published(SMALL, NeuralConfig.from_yaml(SMALL / "models.yaml"))
    return nets, load_file(str(SMALL / "reference_io.safetensors"))


def _close(actual: torch.Tensor, expected: torch.Tensor) -> None:
    assert actual.shape == expected.shape
    assert float((actual - expected).abs().max()) < 1e-4


@torch.inference_mode()
def test_networks_reproduce_the_reference_outputs(small):
    nets, ref = small
    _close(nets.appearance_feature_extractor(ref["source_image"]), ref["F.out"])
    heads = nets.motion_extractor(ref["source_image"])
    for key, value in heads.items():
        _close(value, ref[f"M.out.{key}"])
    warped = nets.warping_module(ref["F.out"], kp_driving=ref["W.in.kp_driving"],
                                 kp_source=ref["W.in.kp_source"])
    for key, value in warped.items():
        _close(value, ref[f"W.out.{key}"])
    _close(nets.spade_generator(ref["W.out.out"]), ref["G.out"])
    for name in ("stitching", "lip", "eye"):
        _close(getattr(nets.stitching_retargeting_module, name)(ref[f"S.{name}.in"]),
               ref[f"S.{name}.out"])


@torch.inference_mode()
def test_end_to_end_relative_step_reproduces_the_reference(small):
    nets, ref = small
    motions = {name: KeypointMotion.from_heads(nets.motion_extractor(ref[image]))
               for name, image in (("source", "source_image"), ("driving_0", "driving_image_0"),
                                   ("driving_1", "driving_image_1"))}
    for name, motion in motions.items():
        for field in ("pitch", "yaw", "roll", "t", "exp", "scale", "kp"):
            _close(getattr(motion, field), ref[f"e2e.{name}.{field}"])
    source = motions["source"]
    _close(source.rotation, ref["e2e.R_source"])
    x_s = source.keypoints()
    _close(x_s, ref["e2e.x_s"])
    # LivePortrait's relative step: R_d R_d0^T R_s, exp_s + (exp_d - exp_d0), s_s s_d / s_d0,
    # t_s + t_d - t_d0; our shared pose composition gives the same rotation.
    d1, d0 = motions["driving_1"], motions["driving_0"]
    target = KeypointTarget(source.kp, d1.rotation @ d0.rotation.transpose(1, 2) @ source.rotation,
                            driven_expression(source, d1, d0, MotionOptions()),
                            source.scale * d1.scale / d0.scale, source.t + d1.t - d0.t)
    x_d = target.keypoints()
    _close(x_d, ref["e2e.x_d_relative"])
    composed = compose_pose(*(_pose(m) for m in (source, d1, d0)), MotionOptions(), np.ones(3))
    _close(torch.from_numpy(composed.rotation.T).float()[None], target.rotation)
    s = nets.stitching_retargeting_module
    x_d = stitch(s, x_s, x_d)
    _close(x_d, ref["e2e.x_d_stitched"])
    _close(retarget(s.eye, x_s, ref["e2e.eye_ratio_in"]), ref["e2e.eye_delta"])
    _close(retarget(s.lip, x_s, ref["e2e.lip_ratio_in"]), ref["e2e.lip_delta"])
    feature = nets.appearance_feature_extractor(ref["source_image"])
    out = nets.spade_generator(nets.warping_module(feature, kp_driving=x_d, kp_source=x_s)["out"])
    _close(out, ref["e2e.out_image"])


def test_full_size_config_has_the_published_keys_and_shapes():
    if not MANIFEST.is_file():
        pytest.skip("../shared/fixtures/full_size_state_dict_manifest.json is not present")
    manifest = json.loads(MANIFEST.read_text())
    with torch.device("meta"):
        nets = LivePortraitNetworks(NeuralConfig.from_yaml())

    def layout(module: torch.nn.Module) -> dict:
        return {k: [list(v.shape), str(v.dtype).removeprefix("torch.")]
                for k, v in module.state_dict().items()}

    s = nets.stitching_retargeting_module
    for name, expected in manifest.items():
        if name == "stitching_retargeting_module":
            for attr, key in s.CHECKPOINT_KEYS.items():
                assert layout(getattr(s, attr)) == expected[key]
        else:
            assert layout(getattr(nets, name)) == expected


# --- loading ------------------------------------------------------------------------------------

@torch.inference_mode()
def test_published_files_load_strictly_and_spectral_norm_folds(tmp_path):
    torch.manual_seed(1)
    raw = LivePortraitNetworks(NeuralConfig.from_dict(TINY)).eval()
    published_state(raw, tmp_path)
    (tmp_path / "models.yaml").write_text(json.dumps(TINY))  # JSON is YAML
    feature = torch.rand(1, 16, 16, 16)
    expected = raw.spade_generator(feature)  # spectral norm, eval mode
    loaded = LivePortraitNetworks.from_published(tmp_path, NeuralConfig.from_dict(TINY))
    assert not any("weight_orig" in k for k in loaded.state_dict())
    assert torch.allclose(loaded.spade_generator(feature), expected, atol=1e-6)


def test_broken_or_missing_checkpoints_give_one_line_errors(tmp_path):
    raw = LivePortraitNetworks(NeuralConfig.from_dict(TINY))
    published_state(raw, tmp_path)
    config = NeuralConfig.from_dict(TINY)
    (tmp_path / "warping_module.pth").unlink()
    with pytest.raises(CheckpointError, match=r"missing in .*warping_module.pth.*download neural --force"):
        LivePortraitNetworks.from_published(tmp_path, config)
    torch.save({"not": torch.zeros(1)}, tmp_path / "warping_module.pth")
    with pytest.raises(CheckpointError, match="'warping_module.pth' does not fit the network"):
        LivePortraitNetworks.from_published(tmp_path, config)
    torch.save({"evil": Fraction(1, 3)}, tmp_path / "warping_module.pth")  # not just tensors
    with pytest.raises(CheckpointError, match="cannot load"):
        LivePortraitNetworks.from_published(tmp_path, config)


@torch.inference_mode()
def test_safetensors_round_trip_keeps_config_and_outputs(tiny, tiny_weights):
    loaded = LivePortraitNetworks.from_safetensors(tiny_weights)
    assert loaded.config == tiny.config
    image = torch.rand(1, 3, 64, 64)
    assert torch.equal(loaded.appearance_feature_extractor(image),
                       tiny.appearance_feature_extractor(image))


# --- maths, batching, geometry ----------------------------------------------------------------

@torch.inference_mode()
def test_shapes_of_every_network(tiny):
    image = torch.rand(2, 3, 256, 256)
    feature = tiny.appearance_feature_extractor(image)
    assert feature.shape == (2, 2, 8, 64, 64)
    motion = KeypointMotion.from_heads(tiny.motion_extractor(image))
    assert motion.kp.shape == (2, 21, 3) and motion.yaw.shape == (2, 1)
    x = motion.keypoints()
    warped = tiny.warping_module(feature, kp_driving=x, kp_source=x)
    assert warped["out"].shape == (2, 16, 64, 64)
    assert warped["deformation"].shape == (2, 8, 64, 64, 3)
    assert warped["occlusion_map"].shape == (2, 1, 64, 64)
    assert tiny.spade_generator(warped["out"]).shape == (2, 3, 512, 512)


@torch.inference_mode()
def test_batching_equals_frame_by_frame(tiny):
    feature = tiny.appearance_feature_extractor(torch.rand(1, 3, 256, 256))
    source, driving, reference = _motion(1, 0), _motion(3, 1), _motion(1, 2)
    x_s = source.keypoints()
    x_d = driving.keypoints()
    batched = tiny.warping_module(feature.expand(3, -1, -1, -1, -1), kp_driving=x_d,
                                  kp_source=x_s.expand(3, -1, -1))["out"]
    exp = driven_expression(source, driving, reference, MotionOptions())
    for i in range(3):
        single = tiny.warping_module(feature, kp_driving=x_d[i:i + 1], kp_source=x_s)["out"]
        assert torch.allclose(batched[i:i + 1], single, atol=1e-5)
        one = driven_expression(source, driving[i], reference, MotionOptions())
        assert torch.allclose(exp[i:i + 1], one, atol=1e-6)


def _pose(motion: KeypointMotion) -> HeadPose:
    return HeadPose(motion.rotation[0].double().numpy().T, np.zeros(3), 1.0)


def test_the_engines_turn_a_head_by_one_rotation_convention():
    """The networks' angles turn a point as the warp engine's do: LivePortrait's row-vector
    matrix is the transpose of our image-axes one, and the neural engine's head pose (what
    :func:`compose_pose` combines) keeps the networks' angles. +22 degrees of yaw moves the
    canonical face's nose towards the image's left in both engines' maths, by the same amount.
    (Which way a trained network's yaw turns a head in the picture is its learned depth axis;
    so the neural engine never turns a control into angles itself: an edit is drawn by the warp
    engine and read back by the networks.)"""
    from deepexpo.engines.neural_engine import NeuralFace
    from deepexpo.face.canonical import canonical_face
    from deepexpo.motion.rigid import euler_to_rotation

    nose = canonical_face().points[1]  # the nose tip, in front of the face (negative depth)
    one = torch.ones(1, 1, dtype=torch.float64)
    for angles in ((0.0, 22.0, 0.0), (5.0, -17.0, 8.0), (-12.0, 30.0, -4.0)):
        pitch, yaw, roll = (a * one for a in angles)
        motion = KeypointMotion(pitch, yaw, roll, torch.zeros(1, 3, dtype=torch.float64),
                                torch.zeros(1, 1, 3, dtype=torch.float64), one,
                                torch.from_numpy(nose).view(1, 1, 3))
        warp = euler_to_rotation(*angles)
        assert motion.rotation[0].numpy().T == pytest.approx(warp, abs=1e-12)
        turned = motion.keypoints()[0, 0].numpy()
        assert turned == pytest.approx(warp @ nose, abs=1e-12)
        face = NeuralFace(None, None, None, motion, HeadPose(np.eye(3), np.zeros(3), 1.0),
                          (0.3, 0.3), 0.0)
        assert face.pose.euler == pytest.approx(angles, abs=1e-9)
        if angles == (0.0, 22.0, 0.0):
            assert turned[0] - nose[0] == pytest.approx(-0.139, abs=0.001)  # eye widths


def test_crop_and_paste_back_geometry(astronaut, landmarker):
    crop = FaceCrop.from_landmarks(landmarker.detect(astronaut).xy)
    assert crop.ux == pytest.approx([1.0, 0.0], abs=0.1)  # an upright face
    forward, back = np.r_[crop.to_crop(512), [[0, 0, 1]]], np.r_[crop.from_crop(512), [[0, 0, 1]]]
    assert np.allclose(forward @ back, np.eye(3), atol=1e-9)
    cut = crop.cut(astronaut, 256)
    pasted = crop.paste(astronaut, cut)
    inside = np.round(crop.centre).astype(int)
    window = (slice(inside[1] - 40, inside[1] + 40), slice(inside[0] - 40, inside[0] + 40))
    assert np.abs(pasted[window].astype(int) - astronaut[window]).mean() < 6  # the face comes back
    corners = [np.array([x, y]) for x in (0, astronaut.shape[1] - 1) for y in (0, astronaut.shape[0] - 1)]
    far = [c for c in corners if np.abs((forward[:2] @ np.r_[c, 1]) / 2 - 128).max() > 140]
    assert far  # image corners well outside the crop ...
    for x, y in far:
        assert np.array_equal(pasted[y, x], astronaut[y, x])  # ... are untouched


# --- the engine end to end (tiny random networks: garbage pixels, real code path) --------------

@pytest.fixture(scope="module")
def neural_pipeline(tiny) -> TransferPipeline:
    return TransferPipeline(NeuralEngine(networks=tiny))


def test_the_warp_source_is_prepared_for_edits_only(neural_pipeline, astronaut, monkeypatch):
    """A neural source asks the warp engine for its own source when first edited, once; a
    source prepared for driving (each frame of a source video) never does."""
    prepared = []
    real = WarpEngine.prepare_source
    monkeypatch.setattr(WarpEngine, "prepare_source",
                        lambda self, *args: prepared.append(1) or real(self, *args))
    face = neural_pipeline.detect(astronaut, "photo")
    source = neural_pipeline.engine.prepare_source(astronaut, face)
    assert prepared == []
    happy = ExpressionEdit.emotion("happy")
    first, again = (neural_pipeline.engine.edit(source, happy) for _ in range(2))
    assert prepared == [1]
    assert np.array_equal(first, again)


def test_neural_engine_transfers_an_image(neural_pipeline, astronaut, open_mouth_driver):
    out = neural_pipeline.transfer_image(astronaut, open_mouth_driver)
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    assert not np.array_equal(out, astronaut)
    assert np.array_equal(out[:, 470:], astronaut[:, 470:])  # outside the crop: untouched


def test_neural_engine_edits_and_reenacts_video(neural_pipeline, hopper, driving_video,
                                                driving_frames, tmp_path):
    edited = neural_pipeline.edit_image(hopper, ExpressionEdit(ExpressionControls(smile=1.0)))
    assert edited.shape == hopper.shape
    out = neural_pipeline.transfer_video(hopper, driving_video, tmp_path / "out.mp4")
    info = probe_video(out)
    assert info.frame_count == len(driving_frames) and info.size == (hopper.shape[1], hopper.shape[0])


def test_retargeting_changes_the_eyes_and_lips(tiny, astronaut, open_mouth_driver, landmarker):
    plain, retargeting = NeuralEngine(networks=tiny), NeuralEngine(networks=tiny, retarget_eyes_lips=True)
    source = plain.prepare_source(astronaut, landmarker.detect(astronaut))
    driving = plain.extract(open_mouth_driver, landmarker.detect(open_mouth_driver))
    a = plain.render(source, driving, driving, MotionOptions())
    b = retargeting.render(source, driving, driving, MotionOptions())
    assert not np.array_equal(a, b)


def test_cli_runs_the_neural_engine(tiny_weights, files_dir, astronaut, tmp_path, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, tiny_weights)
    out = tmp_path / "neural.png"
    assert main(["transfer", "--source", str(files_dir / "astronaut.png"), "--driving",
                 str(files_dir / "driver.png"), "--output", str(out), "--engine", "neural"]) == 0
    assert read_image(out).shape == astronaut.shape


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory, astronaut, open_mouth_driver):
    folder = tmp_path_factory.mktemp("neural_cli")
    write_image(folder / "astronaut.png", astronaut)
    write_image(folder / "driver.png", open_mouth_driver)
    return folder


def test_neural_engine_on_shared_samples(tiny_weights, tmp_path, monkeypatch):
    source, driving = shared_sample("sources/s42.jpg"), shared_sample("driving/d19.jpg")
    monkeypatch.setenv(WEIGHTS_ENV, tiny_weights)
    out = tmp_path / "s42_d19.png"
    assert main(["transfer", "--source", str(source), "--driving", str(driving), "--output",
                 str(out), "--engine", "neural"]) == 0
    assert read_image(out).shape == read_image(source).shape


# --- availability -------------------------------------------------------------------------------

def test_auto_is_warp_without_weights_or_without_a_gpu(tiny_weights, monkeypatch, caplog):
    with caplog.at_level(logging.INFO, logger="deepexpo"):
        assert isinstance(create_engine("auto"), WarpEngine)  # no weights (isolated by conftest)
        assert "download neural" in caplog.text
        monkeypatch.setenv(WEIGHTS_ENV, tiny_weights)
        monkeypatch.setattr("deepexpo.engines.cuda_available", lambda: False)
        assert isinstance(create_engine("auto"), WarpEngine)  # weights, but a CPU only
        assert "no CUDA device" in caplog.text
    monkeypatch.setattr("deepexpo.engines.cuda_available", lambda: True)
    assert isinstance(create_engine("auto"), NeuralEngine)  # weights and a GPU
    assert isinstance(create_engine("neural"), NeuralEngine)  # asked for: runs on the CPU too


def test_auto_takes_neural_for_a_photo_on_a_cpu_within_the_limit_but_never_for_a_video(
        tiny_weights, monkeypatch, caplog):
    from deepexpo.engines import registry, resolve_engine
    from deepexpo.engines.registry import INTERACTIVE, PHOTO, VIDEO
    from deepexpo.ui.models_panel import engine_choices

    monkeypatch.setattr("deepexpo.engines.cuda_available", lambda: False)
    assert engine_choices() == [("auto", "auto"), ("warp", "warp"), ("neural", "neural")]
    monkeypatch.setenv(WEIGHTS_ENV, tiny_weights)
    monkeypatch.setattr("deepexpo.engines.NEURAL_CPU_SECONDS", 0.6 * registry.CPU_PHOTO_LIMIT_S)
    assert resolve_engine("auto", PHOTO) == "neural"
    assert resolve_engine("auto", VIDEO) == "warp"  # frame after frame: the warp on a CPU
    assert resolve_engine("auto", INTERACTIVE) == "warp"  # Live, the editor's sliders
    assert resolve_engine("auto") == "warp"
    assert engine_choices() == [("auto", "auto"), ("fast (warp)", "warp"),
                                ("best (neural, about 9 s a photo)", "neural")]
    monkeypatch.setattr("deepexpo.engines.NEURAL_CPU_SECONDS", 2 * registry.CPU_PHOTO_LIMIT_S)
    with caplog.at_level(logging.INFO, logger="deepexpo"):
        assert resolve_engine("auto", PHOTO) == "warp"
    assert "too slow" in caplog.text
    monkeypatch.setattr("deepexpo.engines.cuda_available", lambda: True)
    assert resolve_engine("auto", VIDEO) == resolve_engine("auto", INTERACTIVE) == "neural"


def test_the_cpu_estimate_is_the_installed_runtimes(monkeypatch):
    from deepexpo.engines import NEURAL_CPU_SECONDS, registry
    from deepexpo.neural.cpu_runtime import CPU_RUNTIMES

    neural = registry.spec("neural")
    assert neural.seconds_per_frame(cuda=False) == NEURAL_CPU_SECONDS  # the tests' setting: torch
    for runtime in CPU_RUNTIMES.values():
        monkeypatch.setenv("DEEPEXPO_NEURAL_RUNTIME", runtime.name)
        if runtime.version() is None:
            assert neural.seconds_per_frame(cuda=False) == NEURAL_CPU_SECONDS
        else:
            assert neural.seconds_per_frame(cuda=False) == runtime.cpu_seconds_per_photo
            assert runtime.cpu_seconds_per_photo < NEURAL_CPU_SECONDS


def test_auto_and_neural_share_one_pipeline(tiny_weights, monkeypatch):
    """The shared pipelines are keyed on the engine ``auto`` stands for: the networks load once."""
    from deepexpo import get_pipeline

    get_pipeline.cache_clear()
    assert get_pipeline("auto") is get_pipeline("warp")  # no weights
    monkeypatch.setenv(WEIGHTS_ENV, tiny_weights)
    monkeypatch.setattr("deepexpo.engines.cuda_available", lambda: True)
    neural = get_pipeline("neural")
    assert isinstance(neural.engine, NeuralEngine)
    assert get_pipeline("auto") is neural
    get_pipeline.cache_clear()


def test_a_wrong_neural_precision_is_one_line(tiny_weights, monkeypatch, tmp_path):
    monkeypatch.setenv(WEIGHTS_ENV, tiny_weights)
    monkeypatch.setenv("DEEPEXPO_NEURAL_PRECISION", "bad")
    with pytest.raises(InputError, match="DEEPEXPO_NEURAL_PRECISION must be auto, fp32, fp16, "
                                         "bf16, not 'bad'"):
        create_engine("neural")
    monkeypatch.setenv("DEEPEXPO_NEURAL_PRECISION", "fp32")
    assert create_engine("neural").dtype is None


def test_download_neural_offline_is_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.run([sys.executable, "-m", "deepexpo", "download", "neural"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("error: cannot download the LivePortrait networks: "
                                  "HF_HUB_OFFLINE is set")
