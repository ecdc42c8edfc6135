"""The neural networks exported to ONNX and run by a CPU runtime (OpenVINO, ONNX Runtime): same
outputs as PyTorch, a stale export rebuilt, and PyTorch when no runtime is installed."""

from __future__ import annotations

import json
import logging
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F

from deepexpo.engines.neural_engine import NeuralEngine
from deepexpo.errors import InputError
from deepexpo.neural import cpu_runtime
from deepexpo.neural.cpu_runtime import CPU_RUNTIMES, RuntimeNetwork, export
from deepexpo.neural.warping_network import gather_grid_sample_3d, grid_sample_3d
from deepexpo.testing.tiny_liveportrait import TINY, published_state, tiny_networks

# fp32, different kernels; images are 0..1 so this is a quarter of one 8-bit level
TOLERANCE = 1e-3


def _installed(name: str) -> object:
    return pytest.param(CPU_RUNTIMES[name], id=name, marks=pytest.mark.skipif(
        CPU_RUNTIMES[name].version() is None, reason=f"{name} is not installed"))


RUNTIMES = [_installed(name) for name in CPU_RUNTIMES]


def _examples(nets, batch: int) -> dict[str, tuple[torch.Tensor, ...]]:
    gen = torch.Generator().manual_seed(batch)
    image = torch.rand(batch, 3, 256, 256, generator=gen)
    with torch.no_grad():
        feature = nets.appearance_feature_extractor(image)
        kp_s = torch.rand(batch, 21, 3, generator=gen) - 0.5
        kp_d = kp_s + 0.05 * torch.randn(batch, 21, 3, generator=gen)
        warped = nets.warping_module(feature, kp_d, kp_s)["out"]
    return {"appearance_feature_extractor": (image,), "motion_extractor": (image,),
            "warping_module": (feature, kp_d, kp_s), "spade_generator": (warped,)}


def _max_diff(a, b) -> float:
    if isinstance(a, dict):
        assert sorted(a) == sorted(b)
        return max(_max_diff(a[k], b[k]) for k in a)
    return float((a - b).abs().max())


def test_the_gathered_3d_sampling_is_torchs_grid_sample():
    gen = torch.Generator().manual_seed(0)
    volume = torch.randn(2, 5, 4, 6, 7, generator=gen)
    grid = torch.rand(2, 3, 4, 6, 7, 3, generator=gen) * 2.6 - 1.3  # some points outside
    expected = torch.stack([F.grid_sample(volume, grid[:, k], align_corners=False)
                            for k in range(3)], dim=2)
    assert torch.allclose(grid_sample_3d(volume, grid), expected, atol=1e-6)
    assert torch.allclose(gather_grid_sample_3d(volume, grid), expected, atol=1e-5)


def _unused() -> tuple[torch.Tensor, ...]:
    raise AssertionError("a cached export is used as it is: no example inputs are computed")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_stale_export_is_rebuilt_when_the_weights_change(tmp_path, runtime):
    old, new = tiny_networks(), tiny_networks()
    with torch.no_grad():
        # a fine-tuned file: same shapes, new weights (the last conv's bias is not normalised away)
        [m for m in new.spade_generator.modules() if isinstance(m, torch.nn.Conv2d)][-1].bias.add_(1)
    example = _examples(old, 1)["spade_generator"]
    first = RuntimeNetwork(old.spade_generator, lambda: example, tmp_path, "spade_generator",
                           runtime, 1)
    again = RuntimeNetwork(old.spade_generator, _unused, tmp_path, "spade_generator", runtime, 1)
    assert again.path == first.path  # cached, not re-exported
    kept = sorted(p.name for p in tmp_path.iterdir())  # the export, and any compiled cache
    assert all(name.startswith(first.path.stem) for name in kept)
    (tmp_path / "openvino-cache").mkdir()  # where an earlier version cached every network
    (tmp_path / "openvino-cache" / "0123.blob").write_bytes(b"compiled")
    rebuilt = RuntimeNetwork(new.spade_generator, lambda: example, tmp_path, "spade_generator",
                             runtime, 1)
    assert rebuilt.path != first.path and not first.path.exists()
    # the old export's compiled cache went with it
    assert all(p.name.startswith(rebuilt.path.stem) for p in tmp_path.iterdir())
    assert [p.name for p in tmp_path.glob("*.onnx")] == [rebuilt.path.name]
    with torch.no_grad():
        assert _max_diff(rebuilt(*example), new.spade_generator(*example)) < TOLERANCE
        assert _max_diff(rebuilt(*example), old.spade_generator(*example)) > 10 * TOLERANCE


class _Warns(torch.nn.Module):
    """The generator, with a warning of its own (ours: the export must let it through)."""

    def __init__(self, generator: torch.nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        warnings.warn("a warning of our own", UserWarning, stacklevel=1)
        return self.generator(feature)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_one_time_export_keeps_the_exporters_own_warnings_to_itself(tmp_path, runtime):
    nets = tiny_networks()
    example = _examples(nets, 1)["spade_generator"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export(_Warns(nets.spade_generator), lambda: example, tmp_path, "spade_generator",
               runtime)
    # torch's TracerWarnings, the legacy exporter's deprecation and instance_norm's train flag
    # are gone; ours is left
    assert {str(w.message) for w in caught} == {"a warning of our own"}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_bf16_runs_in_bfloat16_where_the_runtime_and_cpu_have_it_else_in_f32(
        tmp_path, runtime, caplog):
    # the appearance extractor: a random generator amplifies bf16's rounding of its input alone
    # to about 0.9 in the image (bench/neural_speed.py --runtime prints it at full size)
    nets = tiny_networks()
    name = "appearance_feature_extractor"
    example = _examples(nets, 1)[name]
    with caplog.at_level(logging.INFO, logger=cpu_runtime.__name__):
        made = {precision: RuntimeNetwork(getattr(nets, name), lambda: example, tmp_path, name,
                                          runtime, 1, precision=precision)
                for precision in ("f32", "bf16")}
    with torch.no_grad():
        expected = getattr(nets, name)(*example)
        f32, bf16 = (_max_diff(made[p](*example), expected) for p in ("f32", "bf16"))
    assert f32 < 1e-5
    if "bf16" not in runtime.precisions:
        assert "runs the neural networks in f32, not bf16" in caplog.text and bf16 == f32
        return
    import openvino

    if "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        assert 1e-4 < bf16 < 2e-2  # bfloat16's 8 bits of mantissa (values up to 0.4)
    else:
        assert bf16 == f32


@pytest.fixture
def weights(tmp_path):
    published_state(tiny_networks(fold=False), tmp_path)
    (tmp_path / "models.yaml").write_text(json.dumps(TINY))  # JSON is YAML
    return tmp_path


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_engine_runs_its_runtimes_networks_exported_at_batch_1_and_falls_back_without_it(
        weights, monkeypatch, caplog, runtime):
    with caplog.at_level(logging.INFO, logger=cpu_runtime.__name__):
        engine = NeuralEngine(weights=weights, device="cpu", runtime=runtime.name)
    assert engine.runtime is runtime
    assert f"about {runtime.prepare_seconds:.0f} s for all the networks" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=cpu_runtime.__name__):
        NeuralEngine(weights=weights, device="cpu", runtime=runtime.name)
    assert "first use" not in caplog.text  # prepared once
    nets = engine.networks
    ran = {name for name, net in (
        ("appearance_feature_extractor", engine._appearance), ("motion_extractor", engine._motion),
        ("warping_module", engine._warping), ("spade_generator", engine._generator))
        if isinstance(net, RuntimeNetwork)}
    assert ran == set(runtime.networks)
    assert sorted(p.name.split("-")[0] for p in (weights / "onnx").glob("*.onnx")) == sorted(ran)
    assert nets.warping_module.sample is grid_sample_3d  # PyTorch's own sampling is back
    example = _examples(nets, 2)
    with torch.no_grad():
        for name in ran:
            assert _max_diff(
                {"appearance_feature_extractor": engine._appearance,
                 "motion_extractor": engine._motion, "warping_module": engine._warping,
                 "spade_generator": engine._generator}[name](*example[name]),
                getattr(nets, name)(*example[name])) < TOLERANCE, name

    for other in CPU_RUNTIMES.values():
        monkeypatch.setitem(sys.modules, other.module, None)  # importing it fails
    with caplog.at_level(logging.INFO, logger=cpu_runtime.__name__):
        fallback = NeuralEngine(weights=weights, device="cpu", runtime="auto")
    assert fallback.runtime is None
    assert fallback._generator is fallback.networks.spade_generator
    assert "openvino or onnxruntime are not installed" in caplog.text


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_without_a_writable_export_folder_the_engine_runs_in_pytorch(weights, runtime, caplog):
    (weights / "onnx").write_text("a file where the folder would be")
    with caplog.at_level(logging.WARNING, logger="deepexpo"):
        engine = NeuralEngine(weights=weights, device="cpu", runtime=runtime.name)
    assert engine.runtime is None and engine._generator is engine.networks.spade_generator
    assert "run in PyTorch" in caplog.text


def test_a_wrong_runtime_setting_is_a_one_line_error(weights, monkeypatch):
    monkeypatch.setenv("DEEPEXPO_NEURAL_RUNTIME", "tensorrt")
    with pytest.raises(InputError, match="DEEPEXPO_NEURAL_RUNTIME must be"):
        NeuralEngine.from_settings(weights)
