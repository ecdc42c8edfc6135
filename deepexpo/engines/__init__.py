"""Transfer engines behind one interface, each declared once in :mod:`.registry`;
:func:`create_engine` builds one by name.

The neural engine (and torch) is imported only when it is asked for, or when ``auto`` finds its
weights on disk.
"""

from __future__ import annotations

import logging

from .. import hub
from . import registry
from .base import TransferEngine
from .registry import VIDEO, EngineSpec, Job
from .warp_engine import WarpEngine

logger = logging.getLogger(__name__)


def _neural_engine(progress: hub.DownloadProgress | None) -> TransferEngine:
    weights = hub.require("neural", progress)
    from .neural_engine import NeuralEngine

    return NeuralEngine.from_settings(weights)


registry.register(EngineSpec(
    name="warp", summary="landmark-driven warp, no weights, fast on a CPU",
    create=lambda progress: WarpEngine()))
def _neural_cpu_seconds() -> float:
    """A photo's seconds with the CPU runtime the neural engine would run in here."""
    from ..neural.cpu_runtime import installed_runtime

    runtime = installed_runtime()
    return NEURAL_CPU_SECONDS if runtime is None else runtime.cpu_seconds_per_photo


NEURAL_CPU_SECONDS = 11.0  # a photo in PyTorch on a 2-core CPU (bench/neural_speed.py --runtime)
registry.register(EngineSpec(
    name="neural", summary="LivePortrait's networks", create=_neural_engine,
    models=("neural",), wants_gpu=True, auto_rank=1, drives_placed_faces=False,
    # bench/neural_speed.py: full-size networks on a GPU, and on a 2-core CPU.
    gpu_seconds_per_frame=0.1, cpu_seconds_per_frame=NEURAL_CPU_SECONDS,
    cpu_estimate=_neural_cpu_seconds))

#: The names a user may choose from.
ENGINES = ("auto", *registry.names())


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_engine(name: str = "auto", job: Job = VIDEO) -> str:
    """The engine ``name`` stands for: ``auto`` is the highest-ranked engine that runs ``job``
    well here (the neural engine when its weights are on disk and a CUDA device is there, or
    for a photo on a CPU within :data:`registry.CPU_PHOTO_LIMIT_S`), else the warp engine;
    for faces placed by hand, one that drives them (an engine named that does not is a
    one-line :class:`InputError`). Never downloads."""
    if name != "auto":
        if job.placed_faces:
            registry.check_placed_faces(name)
        return registry.spec(name).name
    for spec in registry.by_auto_rank():
        missing = [m for m in spec.models if hub.MODELS[m].locate() is None]
        if missing:
            logger.info("auto engine: not %s (%s)", spec.name,
                        hub.missing_models_message(missing))
        elif job.placed_faces and not spec.drives_placed_faces:
            logger.info("auto engine: not %s (it does not drive faces placed by points)",
                        spec.name)
        elif not spec.suits(job, cuda_available()):
            logger.info("auto engine: not %s (no CUDA device, and %s on a CPU; choose %s to "
                        "run it there)", spec.name, "a video or live work" if job.frames is None
                        or job.interactive else "too slow", spec.name)
        else:
            return spec.name
    raise AssertionError("the warp engine needs nothing and always runs")


def create_engine(name: str = "auto", progress: hub.DownloadProgress | None = None,
                  job: Job = VIDEO) -> TransferEngine:
    """The engine by name (see :func:`resolve_engine`); one that needs Hub models fetches them
    first when they are not on disk and downloads are allowed (:func:`hub.require`)."""
    return registry.spec(resolve_engine(name, job)).create(progress)


__all__ = ["ENGINES", "TransferEngine", "WarpEngine", "create_engine", "cuda_available",
           "registry", "resolve_engine"]
