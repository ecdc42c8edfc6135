"""The neural networks run by onnxruntime on a CPU, where it is faster than PyTorch.

Each network is exported from the same PyTorch module the user's weights were loaded into, and
cached beside the weights under a name keyed by a hash of those weights, the onnxruntime
version and the opset, so a changed file or upgrade rebuilds it. onnxruntime is optional: without
it :func:`resolve_runtime` answers ``torch`` and the engine runs in PyTorch."""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

RUNTIMES = ("auto", "torch", "onnx")
RUNTIME_ENV = "DEEPEXPO_NEURAL_RUNTIME"
OPSET = 20  # the first with N-D GridSample (the warping network samples a 3-D volume)


def onnxruntime_version() -> str | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    return str(onnxruntime.__version__)


def resolve_runtime(choice: str, device: torch.device, autocast: bool) -> str:
    """``torch`` or ``onnx``: ``auto`` takes onnxruntime for fp32 on a CPU when it is installed."""
    if choice not in RUNTIMES:
        raise ValueError(f"{RUNTIME_ENV} must be one of {', '.join(RUNTIMES)}, not {choice!r}")
    if choice == "torch" or device.type != "cpu" or autocast:
        return "torch"
    if onnxruntime_version() is None:
        logger.info("onnxruntime is not installed: the neural networks run in PyTorch "
                    "(pip install -r requirements-onnx.txt for the faster CPU runtime)")
        return "torch"
    return "onnx"


class _TupleOutputs(torch.nn.Module):
    """The module with its dict output as a tuple in sorted key order (ONNX outputs are a list)."""

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.module = module

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.module(*inputs)
        return tuple(out[k] for k in sorted(out)) if isinstance(out, dict) else (out,)


def export_key(module: torch.nn.Module) -> str:
    """Hash of the weights, onnxruntime version, torch version and opset."""
    digest = hashlib.sha256(f"{onnxruntime_version()}|{torch.__version__}|{OPSET}".encode())
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def export(module: torch.nn.Module, example: tuple[torch.Tensor, ...], folder: Path,
           name: str) -> Path:
    """The cached ONNX file of ``module`` (exported when missing or stale, written atomically;
    older exports of the same network are removed). The batch axis stays dynamic."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{export_key(module)}.onnx"
    if path.exists():
        return path
    for stale in folder.glob(f"{name}-*.onnx"):
        stale.unlink()
    inputs = list(inspect.signature(module.forward).parameters)
    wrapper = _TupleOutputs(module).eval()  # eval: the exporter restores the wrapper's mode
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        with torch.no_grad():
            torch.onnx.export(wrapper, example, str(tmp), opset_version=OPSET, dynamo=False,
                              input_names=inputs, dynamic_axes={i: {0: "batch"} for i in inputs})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("exported %s to %s", name, path)
    return path


class OnnxNetwork:
    """A drop-in for a network's forward (same arguments, same tensor or dict of tensors),
    run by onnxruntime's CPU provider with threads sized to the machine."""

    def __init__(self, module: torch.nn.Module, example: tuple[torch.Tensor, ...], folder: Path,
                 name: str, threads: int | None = None):
        import onnxruntime

        with torch.no_grad():
            out = module(*example)
        self._keys = sorted(out) if isinstance(out, dict) else None
        self._signature = inspect.signature(module.forward)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or max(1, len(os.sched_getaffinity(0)))
        options.inter_op_num_threads = 1
        self.path = export(module, example, folder, name)
        self._session = onnxruntime.InferenceSession(str(self.path), options,
                                                     providers=["CPUExecutionProvider"])

    def __call__(self, *args: torch.Tensor, **kwargs: torch.Tensor
                 ) -> torch.Tensor | dict[str, torch.Tensor]:
        bound = self._signature.bind(*args, **kwargs)
        feed = {k: v.detach().float().cpu().numpy() for k, v in bound.arguments.items()}
        outs = [torch.from_numpy(o) for o in self._session.run(None, feed)]
        return dict(zip(self._keys, outs, strict=True)) if self._keys is not None else outs[0]
