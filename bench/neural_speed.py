"""Speed of the neural engine's networks at full size, with random weights (no download).

    python bench/neural_speed.py [--device cpu|cuda] [--precision auto|fp32|fp16|bf16]
                                 [--batch N] [--repeats N] [--compile]
                                 [--runtime [--runtimes openvino onnxruntime]]

Builds the five networks from the published configuration, then prints milliseconds per call of
the appearance extractor and motion extractor (once per source / per driving frame) and of the
warping network and generator (per batch of driving frames), and the resulting frames per
second of driving (M + W + G per frame). Runs on CPU, and on CUDA too when there is a GPU.
``--runtime`` instead times, on the CPU in fp32, each network in PyTorch and in every installed
CPU runtime (OpenVINO, ONNX Runtime) side by side, with the ratio and the largest difference
between their outputs; then a driving frame (motion, warping, generator) chained through each,
the generated image's largest difference; and a photo transfer end to end (astronaut driven by
grace_hopper, landmarks and paste-back included) with the PyTorch engine and the runtime's.
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
from deepexpo.neural.cpu_runtime import CPU_RUNTIMES  # noqa: E402
from deepexpo.neural.keypoints import KeypointMotion  # noqa: E402
from deepexpo.neural.network_config import NeuralConfig  # noqa: E402


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


def _photo_seconds(engine: NeuralEngine, repeats: int) -> float:
    """A photo transfer end to end (after a warm-up one), the engine built beforehand."""
    from matplotlib import cbook
    from skimage import data

    from deepexpo.io.images import read_image
    from deepexpo.pipeline import TransferPipeline

    pipeline = TransferPipeline(engine)
    source = data.astronaut()
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        driving = read_image(f.name)
    return _time(lambda: pipeline.transfer_image(source, driving), torch.device("cpu"), repeats)


def bench_runtime(batch: int, repeats: int, names: list[str]) -> None:
    """PyTorch against each installed CPU runtime of ``names``, on the CPU in fp32."""
    torch.manual_seed(0)
    nets = LivePortraitNetworks(NeuralConfig.from_yaml()).fold()
    runtimes = [CPU_RUNTIMES[n] for n in names if CPU_RUNTIMES[n].version() is not None]
    frames = torch.rand(batch, 3, 256, 256)
    with torch.inference_mode():
        feature = nets.appearance_feature_extractor(frames)
        x_s = KeypointMotion.from_heads(nets.motion_extractor(frames)).keypoints().float()
        x_d = x_s + 0.01 * torch.randn_like(x_s)
        warped = nets.warping_module(feature, x_d, x_s)["out"]
    inputs = {"appearance_feature_extractor": (frames,), "motion_extractor": (frames,),
              "warping_module": (feature, x_d, x_s), "spade_generator": (warped,)}
    cpu = torch.device("cpu")
    print(f"--- cpu, fp32, batch {batch}: PyTorch ({torch.get_num_threads()} threads) against "
          + ", ".join(f"{r.name} {r.version()}" for r in runtimes))
    print(f"{'network':30s} {'runtime':12s} {'torch ms':>9s} {'ms':>9s} {'ratio':>6s} "
          f"{'max diff':>9s}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        torch_s, run_s, engines = {}, {r.name: {} for r in runtimes}, {}
        with torch.inference_mode():
            for name, args in inputs.items():
                module = getattr(nets, name)
                torch_s[name] = _time(lambda m=module, a=args: m(*a), cpu, repeats)
        for runtime in runtimes:
            engine = engines[runtime.name] = NeuralEngine(
                networks=nets, device="cpu", runtime=runtime.name, export_folder=folder / runtime.name)
            ran = {"appearance_feature_extractor": engine._appearance,
                   "motion_extractor": engine._motion, "warping_module": engine._warping,
                   "spade_generator": engine._generator}
            for name, args in inputs.items():
                module, net = getattr(nets, name), ran[name]
                with torch.inference_mode():
                    if net is module:  # this runtime leaves it to PyTorch
                        run_s[runtime.name][name] = torch_s[name]
                        print(f"{name:30s} {runtime.name:12s} {'(runs in PyTorch)':>37s}")
                        continue
                    diff = _max_diff(net(*args), module(*args))
                    run_s[runtime.name][name] = _time(lambda f=net, a=args: f(*a), cpu, repeats)
                print(f"{name:30s} {runtime.name:12s} {1000 * torch_s[name]:9.1f} "
                      f"{1000 * run_s[runtime.name][name]:9.1f} "
                      f"{torch_s[name] / run_s[runtime.name][name]:6.2f} {diff:9.2e}")
        driving = ("motion_extractor", "warping_module", "spade_generator")
        torch_frame = sum(torch_s[n] for n in driving) / batch
        for runtime in runtimes:
            engine = engines[runtime.name]
            with torch.inference_mode():
                image = engine._generator(engine._warping(feature, x_d, x_s)["out"])
                diff = _max_diff(image, nets.spade_generator(warped))
            frame = sum(run_s[runtime.name][n] for n in driving) / batch
            print(f"driving frame (M+W+G)          {runtime.name:12s} {1000 * torch_frame:9.1f} "
                  f"{1000 * frame:9.1f} {torch_frame / frame:6.2f} {diff:9.2e}  (image, W+G chained)")
        torch_photo = _photo_seconds(NeuralEngine(networks=nets, device="cpu"), repeats)
        for runtime in runtimes:
            photo = _photo_seconds(engines[runtime.name], repeats)
            print(f"photo transfer, end to end     {runtime.name:12s} {1000 * torch_photo:9.1f} "
                  f"{1000 * photo:9.1f} {torch_photo / photo:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cpu, then cuda if present")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"))
    parser.add_argument("--batch", type=int, help="driving frames per call (default 1 CPU, 8 CUDA)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="torch.compile W and G")
    parser.add_argument("--runtime", action="store_true",
                        help="PyTorch against the installed CPU runtimes (CPU, fp32)")
    parser.add_argument("--runtimes", nargs="+", choices=list(CPU_RUNTIMES),
                        default=list(CPU_RUNTIMES), help="with --runtime: which ones")
    args = parser.parse_args()
    if args.runtime:
        bench_runtime(args.batch or 1, args.repeats, args.runtimes)
        return
    devices = [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        batch = args.batch or (8 if device == "cuda" else 1)
        bench(device, args.precision, batch, args.repeats, args.compile)


if __name__ == "__main__":
    main()
