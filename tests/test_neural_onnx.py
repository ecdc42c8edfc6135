"""The neural networks exported to ONNX and run by onnxruntime: same outputs as PyTorch, a
stale export rebuilt, and PyTorch when onnxruntime is missing."""

from __future__ import annotations

import builtins
import json
import logging

import pytest
import torch

from deepexpo.engines.neural_engine import NeuralEngine
from deepexpo.errors import InputError
from deepexpo.neural import onnx_runtime
from deepexpo.neural.onnx_runtime import OnnxNetwork
from deepexpo.testing.tiny_liveportrait import TINY, published_state, tiny_networks

pytest.importorskip("onnxruntime")

# fp32, different kernels; images are 0..1 so this is a quarter of one 8-bit level
TOLERANCE = 1e-3


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


def test_every_network_exported_matches_pytorch_at_another_batch_size(tmp_path):
    nets = tiny_networks()
    export, run = _examples(nets, 1), _examples(nets, 3)
    for name, example in export.items():
        module = getattr(nets, name)
        onnx = OnnxNetwork(module, example, tmp_path, name, threads=1)
        with torch.no_grad():
            expected = module(*run[name])
        assert _max_diff(onnx(*run[name]), expected) < TOLERANCE, name


def test_a_stale_export_is_rebuilt_when_the_weights_change(tmp_path):
    old, new = tiny_networks(), tiny_networks()
    with torch.no_grad():
        # a fine-tuned file: same shapes, new weights (the last conv's bias is not normalised away)
        [m for m in new.spade_generator.modules() if isinstance(m, torch.nn.Conv2d)][-1].bias.add_(1)
    example = _examples(old, 1)["spade_generator"]
    first = OnnxNetwork(old.spade_generator, example, tmp_path, "spade_generator", threads=1)
    again = OnnxNetwork(old.spade_generator, example, tmp_path, "spade_generator", threads=1)
    assert again.path == first.path  # cached, not re-exported
    rebuilt = OnnxNetwork(new.spade_generator, example, tmp_path, "spade_generator", threads=1)
    assert rebuilt.path != first.path and not first.path.exists()
    assert [p.name for p in tmp_path.glob("*.onnx")] == [rebuilt.path.name]
    with torch.no_grad():
        assert _max_diff(rebuilt(*example), new.spade_generator(*example)) < TOLERANCE
        assert _max_diff(rebuilt(*example), old.spade_generator(*example)) > 10 * TOLERANCE


@pytest.fixture
def weights(tmp_path):
    published_state(tiny_networks(fold=False), tmp_path)
    (tmp_path / "models.yaml").write_text(json.dumps(TINY))  # JSON is YAML
    return tmp_path


def test_the_engine_warps_and_generates_in_onnx_and_falls_back_without_it(
        weights, monkeypatch, caplog):
    engine = NeuralEngine(weights=weights, device="cpu", runtime="onnx")
    assert all(isinstance(net, OnnxNetwork) for net in (
        engine._appearance, engine._motion, engine._generator))
    assert engine._warping is engine.networks.warping_module  # 5-D GridSample: slower in ONNX
    assert sorted(p.name.split("-")[0] for p in (weights / "onnx").glob("*.onnx")) == [
        "appearance_feature_extractor", "motion_extractor", "spade_generator"]
    example = _examples(engine.networks, 2)
    with torch.no_grad():
        assert _max_diff(engine._motion(*example["motion_extractor"]),
                         engine.networks.motion_extractor(*example["motion_extractor"])) < TOLERANCE

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with caplog.at_level(logging.INFO, logger=onnx_runtime.__name__):
        fallback = NeuralEngine(weights=weights, device="cpu", runtime="auto")
    assert fallback._warping is fallback.networks.warping_module
    assert "onnxruntime is not installed" in caplog.text


def test_a_wrong_runtime_setting_is_a_one_line_error(weights, monkeypatch):
    monkeypatch.setenv("DEEPEXPO_NEURAL_RUNTIME", "tensorrt")
    with pytest.raises(InputError, match="DEEPEXPO_NEURAL_RUNTIME must be"):
        NeuralEngine.from_settings(weights)
