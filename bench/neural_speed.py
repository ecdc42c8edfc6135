"""Speed of the neural engine's networks at full size, with random weights (no download).

    python bench/neural_speed.py [--device cpu|cuda] [--precision auto|fp32|fp16|bf16]
                                 [--batch N] [--repeats N] [--compile] [--onnx]

Builds the five networks from the published configuration, then prints milliseconds per call of
the appearance extractor and motion extractor (once per source / per driving frame) and of the
warping network and generator (per batch of driving frames), and the resulting frames per
second of driving (M + W + G per frame). Runs on CPU, and on CUDA too when there is a GPU.
``--onnx`` instead times each network in PyTorch and in onnxruntime (CPU, fp32) side by side,
with the ratio and the largest difference between their outputs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepexpo.engines.neural_engine import NeuralEngine  # noqa: E402
from deepexpo.neural.checkpoints import LivePortraitNetworks  # noqa: E402
from deepexpo.neural.keypoints import KeypointMotion  # noqa: E402
from deepexpo.neural.network_config import NeuralConfig  # noqa: E402
from deepexpo.neural.onnx_runtime import OnnxNetwork  # noqa: E402


def _time(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Median seconds per call, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench(device: str, precision: str, batch: int, repeats: int, compile: bool) -> None:
    torch.manual_seed(0)
    engine = NeuralEngine(networks=LivePortraitNetworks(NeuralConfig.from_yaml()), device=device,
                          precision=precision, compile=compile)
    dev = engine.device
    n = engine.networks
    one = torch.rand(1, 3, 256, 256, device=dev)
    frames = torch.rand(batch, 3, 256, 256, device=dev)
    with engine._inference():
        feature = n.appearance_feature_extractor(one)
        x_s = KeypointMotion.from_heads(n.motion_extractor(one)).keypoints().float()
        x_d = x_s.expand(batch, -1, -1) + 0.01 * torch.randn(batch, 21, 3, device=dev)
        volume = feature.expand(batch, -1, -1, -1, -1)
        warped = engine._warping(volume, kp_driving=x_d, kp_source=x_s.expand(batch, -1, -1))["out"]
        runs = {
            "appearance extractor (per source)": lambda: n.appearance_feature_extractor(one),
            f"motion extractor (B={batch})": lambda: n.motion_extractor(frames),
            f"warping network (B={batch})": lambda: engine._warping(
                volume, kp_driving=x_d, kp_source=x_s.expand(batch, -1, -1)),
            f"SPADE generator (B={batch})": lambda: engine._generator(warped),
        }
        seconds = {name: _time(fn, dev, repeats) for name, fn in runs.items()}
    label = f"{dev.type}, {precision}, batch {batch}{', compiled' if compile else ''}"
    print(f"--- {label} ({torch.get_num_threads()} CPU threads)")
    for name, s in seconds.items():
        print(f"{name:32s} {1000 * s:9.1f} ms")
    per_frame = sum(s for name, s in seconds.items() if "per source" not in name) / batch
    print(f"driving: {1 / per_frame:.2f} frames/s ({1000 * per_frame:.0f} ms per frame, "
          "networks only)")


def _max_diff(a: object, b: object) -> float:
    if isinstance(a, dict) and isinstance(b, dict):
        return max(_max_diff(a[k], b[k]) for k in a)
    assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
    return float((a - b).abs().max())


def bench_onnx(batch: int, repeats: int) -> None:
    """PyTorch against onnxruntime per network, on the CPU in fp32."""
    torch.manual_seed(0)
    n = LivePortraitNetworks(NeuralConfig.from_yaml()).fold()
    frames = torch.rand(batch, 3, 256, 256)
    with torch.inference_mode():
        feature = n.appearance_feature_extractor(frames)
        x_s = KeypointMotion.from_heads(n.motion_extractor(frames)).keypoints().float()
        x_d = x_s + 0.01 * torch.randn_like(x_s)
        warped = n.warping_module(feature, x_d, x_s)["out"]
    inputs = {"appearance_feature_extractor": (frames,), "motion_extractor": (frames,),
              "warping_module": (feature, x_d, x_s), "spade_generator": (warped,)}
    print(f"--- cpu, fp32, batch {batch}: PyTorch ({torch.get_num_threads()} threads) "
          "against onnxruntime")
    print(f"{'network':30s} {'torch ms':>9s} {'onnx ms':>9s} {'ratio':>6s} {'max diff':>9s}")
    with tempfile.TemporaryDirectory() as folder:
        for name, args in inputs.items():
            module = getattr(n, name)
            onnx = OnnxNetwork(module, args, Path(folder), name)
            with torch.inference_mode():
                torch_s = _time(lambda m=module, a=args: m(*a), torch.device("cpu"), repeats)
                diff = _max_diff(onnx(*args), module(*args))
            onnx_s = _time(lambda o=onnx, a=args: o(*a), torch.device("cpu"), repeats)
            print(f"{name:30s} {1000 * torch_s:9.1f} {1000 * onnx_s:9.1f} "
                  f"{torch_s / onnx_s:6.2f} {diff:9.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cpu, then cuda if present")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"))
    parser.add_argument("--batch", type=int, help="driving frames per call (default 1 CPU, 8 CUDA)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="torch.compile W and G")
    parser.add_argument("--onnx", action="store_true",
                        help="PyTorch against onnxruntime per network (CPU, fp32)")
    args = parser.parse_args()
    if args.onnx:
        bench_onnx(args.batch or 1, args.repeats)
        return
    devices = [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        batch = args.batch or (8 if device == "cuda" else 1)
        bench(device, args.precision, batch, args.repeats, args.compile)


if __name__ == "__main__":
    main()
