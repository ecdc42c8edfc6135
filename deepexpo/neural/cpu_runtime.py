"""The neural networks run by a CPU inference runtime (OpenVINO, or ONNX Runtime), where they
are faster than in PyTorch.

Each network is exported to ONNX from the same PyTorch module the user's weights were loaded
into, and cached beside the weights under a name keyed by a hash of those weights, the runtime's
version, PyTorch's, the opset and the export's form, so a changed file or an upgrade rebuilds it.
The runtimes are optional: without one :func:`resolve_runtime` answers ``torch`` (with a logged
note) and the engine runs in PyTorch. Which networks a runtime takes is measured
(``bench/neural_speed.py --runtime``): ONNX Runtime's 5-D GridSample is slow, so with it the
warping network stays in PyTorch; OpenVINO runs the warping network with its 3-D sampling
written as gathers (:func:`~deepexpo.neural.warping_network.gather_grid_sample_3d`).

Precision: ``f32`` by default, the same numbers as PyTorch. In fp32 a driving frame cannot be
three times faster than PyTorch here: its networks need about 1250 GFLOP (motion 12, warping
342, generator 892), PyTorch runs them at about 215 GFLOP/s on an idle 2-core CPU and OpenVINO
at about 290, while a third of PyTorch's time would take 640, above two cores' fp32 peak (two
AVX-512 FMA units each: 250-380 GFLOP/s). ``bf16`` (opt-in, OpenVINO on a CPU with bfloat16
units, e.g. AMX) takes a driving frame in 1.4 s against PyTorch's 5.9 s (4.2x), but bfloat16
keeps 8 bits of mantissa: with random weights the generator amplifies a relative
change of 1e-4 in its input to 0.03 in the image, and bf16's rounding to 0.4-0.6
(``bench/neural_speed.py --runtime --precisions f32 bf16`` prints both)."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InputError

logger = logging.getLogger(__name__)

RUNTIME_ENV = "DEEPEXPO_NEURAL_RUNTIME"
OPSET = 20  # the first with N-D GridSample
#: Bumped when the exported graphs change for the same weights (2: gathers, 3: named outputs).
EXPORT_FORM = 3

#: Inputs by name -> outputs by key (a dict's keys; ``""`` for a lone tensor).
Session = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
#: Prefixes the exported outputs' names (the key after it): a runtime may give an output other
#: names too (OpenVINO: its producing node's).
OUTPUT = "output:"
#: ``f32``: PyTorch's numbers; ``bf16``: faster and further off (module docstring).
PRECISIONS = ("f32", "bf16")


def _key(names: set[str]) -> str:
    """The output's key among a runtime's names for it."""
    return next(name for name in names if name.startswith(OUTPUT)).removeprefix(OUTPUT)


def cpu_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def _onnxruntime_session(path: Path, threads: int, precision: str) -> Session:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    keys = [_key({output.name}) for output in session.get_outputs()]
    return lambda feed: dict(zip(keys, session.run(None, feed), strict=True))


def _openvino_session(path: Path, threads: int, precision: str) -> Session:
    import openvino

    core = openvino.Core()
    if precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        logger.info("this CPU has no bfloat16 units: the neural networks run in f32")
        precision = "f32"
    # Always explicit: on a CPU with bf16 units OpenVINO would otherwise compute in bf16. (f16
    # is no choice: without AMX-FP16 it is emulated, slower than f32.) The compiled form is
    # cached beside the export (the first compile takes seconds) and pruned with it.
    compiled = core.compile_model(str(path), "CPU", {
        "INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": threads,
        "PERFORMANCE_HINT": "LATENCY", "CACHE_DIR": str(path.with_suffix(".openvino-cache"))})

    def run(feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = compiled.create_infer_request().infer(feed)  # one each: threads may share it
        return {_key(output.get_names()): np.array(results[output]) for output in compiled.outputs}

    return run


@dataclass(frozen=True)
class CpuRuntime:
    """A runtime the exported networks can run in."""

    name: str
    module: str  # the package that provides it
    #: A session for an exported file, with this many threads, in one of its ``precisions``.
    open: Callable[[Path, int, str], Session]
    networks: tuple[str, ...]  # the networks it runs faster than PyTorch (measured)
    precisions: tuple[str, ...]  # of :data:`PRECISIONS`, those it can run in
    cpu_seconds_per_photo: float  # a photo transfer end to end on a 2-core CPU (measured)
    prepare_seconds: float  # exporting and compiling its networks, once per weights (measured)

    def version(self) -> str | None:
        try:
            return str(importlib.import_module(self.module).__version__)
        except ImportError:
            return None


_NETWORKS = ("appearance_feature_extractor", "motion_extractor", "spade_generator")
#: In the order ``auto`` prefers them (OpenVINO measured faster on every network).
CPU_RUNTIMES = {runtime.name: runtime for runtime in (
    # bench/neural_speed.py --runtime, side by side with PyTorch's photo (about 11 s): 1.37x
    # faster end to end in OpenVINO, 1.15x in ONNX Runtime; at load 1.7-2.1 OpenVINO fp32's
    # driving frame 1.37x, its photo 4.7 s against 8.0 s (bf16: 4.2x and 1.5 s). First use of
    # new weights (export and compile, load 1.7-3): OpenVINO 21-42 s, ONNX Runtime 17 s.
    CpuRuntime("openvino", "openvino", _openvino_session, (*_NETWORKS, "warping_module"),
               PRECISIONS, 8.0, 40.0),
    CpuRuntime("onnxruntime", "onnxruntime", _onnxruntime_session, _NETWORKS, ("f32",), 9.5,
               17.0),
)}
RUNTIMES = ("auto", "torch", *CPU_RUNTIMES)


def resolve_runtime(choice: str, device: torch.device, autocast: bool) -> CpuRuntime | None:
    """The runtime to run in (``None``: PyTorch). ``auto`` takes the first installed one for
    fp32 on a CPU; a named one that is not installed is PyTorch with a logged note."""
    if choice not in RUNTIMES:
        raise ValueError(f"{RUNTIME_ENV} must be one of {', '.join(RUNTIMES)}, not {choice!r}")
    if choice == "torch" or device.type != "cpu" or autocast:
        return None
    wanted = list(CPU_RUNTIMES.values()) if choice == "auto" else [CPU_RUNTIMES[choice]]
    for runtime in wanted:
        if runtime.version() is not None:
            return runtime
    logger.info("%s not installed: the neural networks run in PyTorch (pip install -r "
                "requirements-cpu-runtime.txt for the faster CPU runtime)",
                " or ".join(r.module for r in wanted) + (" is" if len(wanted) == 1 else " are"))
    return None


def runtime_setting() -> str:
    """``DEEPEXPO_NEURAL_RUNTIME`` (default ``auto``); a wrong value is a one-line error."""
    choice = os.environ.get(RUNTIME_ENV, "auto").strip().lower()
    if choice not in RUNTIMES:
        raise InputError(f"{RUNTIME_ENV} must be {', '.join(RUNTIMES)}, not '{choice}'")
    return choice


def installed_runtime() -> CpuRuntime | None:
    """The runtime the neural engine runs in on a CPU here, as set (``None``: PyTorch)."""
    return resolve_runtime(runtime_setting(), torch.device("cpu"), autocast=False)


class _TupleOutputs(torch.nn.Module):
    """The module with its dict output as a tuple in sorted key order (ONNX outputs are a list)."""

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.module = module

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.module(*inputs)
        return tuple(out[k] for k in sorted(out)) if isinstance(out, dict) else (out,)


def export_key(module: torch.nn.Module, runtime: CpuRuntime) -> str:
    """Hash of the weights, the runtime's and torch's versions, the opset and the export form."""
    digest = hashlib.sha256(f"{runtime.name} {runtime.version()}|{torch.__version__}|{OPSET}|"
                            f"{EXPORT_FORM}".encode())
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _quiet_exporter() -> None:
    """Silence what the exporter says about its own and torch's code on every export (inside
    :func:`warnings.catch_warnings`); warnings raised from our networks' code still show."""
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning, module=r"torch\.")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
    warnings.filterwarnings("ignore", message="You are using the legacy TorchScript-based ONNX")
    warnings.filterwarnings("ignore", message="ONNX export mode is set to TrainingMode.EVAL, "
                            "but operator 'instance_norm'")  # the exported graph is eval's


def export(module: torch.nn.Module, example: Callable[[], tuple[torch.Tensor, ...]],
           folder: Path, name: str, runtime: CpuRuntime) -> Path:
    """The cached ONNX file of ``module`` (exported when missing or stale, written atomically;
    older exports of the same network are removed), traced on ``example()`` (called only then).
    The batch axis stays dynamic; the outputs are named by the module's dict keys."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{export_key(module, runtime)}.onnx"
    if path.exists():
        return path
    # older exports and their compiled caches (before export form 3, one shared cache folder)
    for stale in [*folder.glob(f"{name}-*"), folder / "openvino-cache"]:
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    logger.info("preparing %s for %s (first use of these weights: about %.0f s for all the "
                "networks on a 2-core CPU, once)", name, runtime.name, runtime.prepare_seconds)
    names = list(inspect.signature(module.forward).parameters)
    wrapper = _TupleOutputs(module).eval()  # eval: the exporter restores the wrapper's mode
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        with torch.no_grad(), warnings.catch_warnings():
            _quiet_exporter()
            args = example()
            out = module(*args)
            torch.onnx.export(wrapper, args, str(tmp), opset_version=OPSET, dynamo=False,
                              input_names=names,
                              output_names=[OUTPUT + k for k in sorted(out)]
                              if isinstance(out, dict) else [OUTPUT],
                              dynamic_axes={i: {0: "batch"} for i in names})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("exported %s to %s", name, path)
    return path


class RuntimeNetwork:
    """A drop-in for a network's forward (same arguments, same tensor or dict of tensors), run
    by ``runtime`` in ``precision`` with threads sized to the machine."""

    def __init__(self, module: torch.nn.Module, example: Callable[[], tuple[torch.Tensor, ...]],
                 folder: Path, name: str, runtime: CpuRuntime, threads: int | None = None,
                 precision: str = "f32"):
        self._signature = inspect.signature(module.forward)
        self.runtime = runtime
        if precision not in runtime.precisions:
            logger.info("%s runs the neural networks in f32, not %s", runtime.name, precision)
            precision = "f32"
        self.path = export(module, example, folder, name, runtime)
        self._session = runtime.open(self.path, threads or cpu_threads(), precision)

    def __call__(self, *args: torch.Tensor, **kwargs: torch.Tensor
                 ) -> torch.Tensor | dict[str, torch.Tensor]:
        bound = self._signature.bind(*args, **kwargs)
        feed: dict[str, Any] = {k: np.ascontiguousarray(v.detach().float().cpu().numpy())
                                for k, v in bound.arguments.items()}
        outs = {k: torch.from_numpy(v) for k, v in self._session(feed).items()}
        return outs[""] if list(outs) == [""] else outs
