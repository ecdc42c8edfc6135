"""Speed of the neural engine's networks at full size, with random weights (no download).

    python bench/neural_speed.py [--device cpu|cuda] [--precision auto|fp32|fp16|bf16]
                                 [--batch N] [--repeats N] [--compile]
                                 [--runtime [--runtimes openvino onnxruntime]
                                            [--precisions f32 bf16]]

Builds the five networks from the published configuration, then prints milliseconds per call of
the appearance extractor and motion extractor (once per source / per driving frame) and of the
warping network and generator (per batch of driving frames), and the resulting frames per
second of driving (M + W + G per frame). Runs on CPU, and on CUDA too when there is a GPU.
``--runtime`` instead times, on the CPU, each network in PyTorch (fp32) and in every installed
CPU runtime (OpenVINO, ONNX Runtime) in each precision asked for, side by side (in turn, every
round) with the ratio and the largest difference between their outputs; then a driving frame
(motion, warping, generator; ``--batch`` frames a call) chained through each, the generated
image's largest difference; how much the generator amplifies a small change of its input (why
bf16 is far off with random weights); and a photo transfer end to end (astronaut driven by
grace_hopper, landmarks and paste-back included) with the PyTorch engine and the runtimes'.
Each line ends with the machine's load average.
"""

from __future__ import annotations

import argparse
import os
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
from deepexpo.neural.cpu_runtime import CPU_RUNTIMES, PRECISIONS  # noqa: E402
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


def _photo(engine: NeuralEngine) -> Callable[[], object]:
    """A photo transfer end to end (astronaut driven by grace_hopper), the engine built."""
    from matplotlib import cbook
    from skimage import data

    from deepexpo.io.images import read_image
    from deepexpo.pipeline import TransferPipeline

    pipeline = TransferPipeline(engine)
    source = data.astronaut()
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        driving = read_image(f.name)
    return lambda: pipeline.transfer_image(source, driving)


def _time_side_by_side(fns: list[Callable[[], object]], repeats: int) -> list[float]:
    """Median seconds per call of each of ``fns``, called in turn in every round (after a
    warm-up round), so a load that comes and goes weighs on all of them alike."""
    times: list[list[float]] = [[] for _ in fns]
    for round in range(repeats + 1):
        for fn, spent in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            if round:
                spent.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def bench_runtime(batch: int, repeats: int, names: list[str], precisions: list[str]) -> None:
    """PyTorch (fp32) against each installed CPU runtime of ``names`` in each of ``precisions``
    it has, on the CPU, timed side by side."""
    torch.manual_seed(0)
    nets = LivePortraitNetworks(NeuralConfig.from_yaml()).fold()
    variants = [(r, p) for r in (CPU_RUNTIMES[n] for n in names) if r.version() is not None
                for p in precisions if p in r.precisions]
    frames = torch.rand(batch, 3, 256, 256)
    with torch.inference_mode():
        feature = nets.appearance_feature_extractor(frames)
        x_s = KeypointMotion.from_heads(nets.motion_extractor(frames)).keypoints().float()
        x_d = x_s + 0.01 * torch.randn_like(x_s)
        warped = nets.warping_module(feature, x_d, x_s)["out"]
        image = nets.spade_generator(warped)
    inputs = {"appearance_feature_extractor": (frames,), "motion_extractor": (frames,),
              "warping_module": (feature, x_d, x_s), "spade_generator": (warped,)}
    print(f"--- cpu, batch {batch}: PyTorch fp32 ({torch.get_num_threads()} threads) against "
          + ", ".join(f"{r.name} {r.version()} {p}" for r, p in variants) + f"; {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        engines, ran = {}, {}
        for runtime, precision in variants:
            start = time.perf_counter()
            engine = engines[f"{runtime.name} {precision}"] = NeuralEngine(
                networks=nets, device="cpu", runtime=runtime.name,
                precision="bf16" if precision == "bf16" else "fp32",
                export_folder=Path(tmp) / runtime.name)
            print(f"{runtime.name} {precision}: first use, exported and compiled in "
                  f"{time.perf_counter() - start:.0f} s ({_load()})")
            ran[f"{runtime.name} {precision}"] = {
                "appearance_feature_extractor": engine._appearance,
                "motion_extractor": engine._motion, "warping_module": engine._warping,
                "spade_generator": engine._generator}
        print(f"{'network':30s} {'runtime':17s} {'torch ms':>9s} {'ms':>9s} {'ratio':>6s} "
              f"{'max diff':>9s}")
        seconds: dict[str, dict] = {}
        with torch.inference_mode():
            for name, args in inputs.items():
                module = getattr(nets, name)
                own = [v for v in engines if ran[v][name] is not module]
                fns = [lambda m=module, a=args: m(*a)] + [
                    lambda f=ran[v][name], a=args: f(*a) for v in own]
                torch_s, *run_s = _time_side_by_side(fns, repeats)
                seconds[name] = {v: torch_s for v in engines}  # in PyTorch where not its own
                seconds[name]["torch"] = torch_s
                for v, s in zip(own, run_s, strict=True):
                    seconds[name][v] = s
                    diff = _max_diff(ran[v][name](*args), module(*args))
                    print(f"{name:30s} {v:17s} {1000 * torch_s:9.1f} "
                          f"{1000 * s:9.1f} {torch_s / s:6.2f} {diff:9.2e}  {_load()}")
            driving = ("motion_extractor", "warping_module", "spade_generator")
            torch_frame = sum(seconds[n]["torch"] for n in driving) / batch
            for v, engine in engines.items():
                chained = engine._generator(engine._warping(feature, x_d, x_s)["out"])
                frame = sum(seconds[n][v] for n in driving) / batch
                print(f"driving frame (M+W+G), 1 of {batch:<3d}{v:17s} "
                      f"{1000 * torch_frame:9.1f} {1000 * frame:9.1f} {torch_frame / frame:6.2f} "
                      f"{_max_diff(chained, image):9.2e}  (image, W+G chained)")
            for label, perturbed in (("rounded to bf16", warped.bfloat16().float()),
                                     ("x (1 + 1e-4 noise)", warped * (1 + 1e-4 * torch.randn_like(warped)))):
                print(f"sensitivity: PyTorch fp32's image, the generator's input {label}: max "
                      f"diff {_max_diff(nets.spade_generator(perturbed), image):.2e}")
        pytorch = NeuralEngine(networks=nets, device="cpu")
        photo = _time_side_by_side([_photo(pytorch)] + [_photo(e) for e in engines.values()],
                                   repeats)
        for v, s in zip(engines, photo[1:], strict=True):
            print(f"photo transfer, end to end     {v:17s} {1000 * photo[0]:9.1f} "
                  f"{1000 * s:9.1f} {photo[0] / s:6.2f}  {_load()}")


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
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=["f32"],
                        help="with --runtime: the runtimes' precisions to time")
    args = parser.parse_args()
    if args.runtime:
        bench_runtime(args.batch or 1, args.repeats, args.runtimes, args.precisions)
        return
    devices = [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        batch = args.batch or (8 if device == "cuda" else 1)
        bench(device, args.precision, batch, args.repeats, args.compile)


if __name__ == "__main__":
    main()
