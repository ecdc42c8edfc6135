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
from .registry import EngineSpec
from .warp_engine import WarpEngine

logger = logging.getLogger(__name__)


def _neural_engine(progress: hub.DownloadProgress | None) -> TransferEngine:
    weights = hub.require("neural", progress)
    from .neural_engine import NeuralEngine

    return NeuralEngine.from_settings(weights)


registry.register(EngineSpec(
    name="warp", summary="landmark-driven warp, no weights, fast on a CPU",
    create=lambda progress: WarpEngine()))
registry.register(EngineSpec(
    name="neural", summary="LivePortrait's networks", create=_neural_engine,
    models=("neural",), wants_gpu=True, auto_rank=1,
    # bench/neural_speed.py: full-size networks on a GPU, and on a 2-core CPU.
    gpu_seconds_per_frame=0.1, cpu_seconds_per_frame=9.0))

#: The names a user may choose from.
ENGINES = ("auto", *registry.names())


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_engine(name: str = "auto") -> str:
    """The engine ``name`` stands for: ``auto`` is the highest-ranked engine that can run well
    here (the neural engine when its weights are on disk and a CUDA device is there: on a CPU it
    takes seconds a frame), else the warp engine. Never downloads."""
    if name != "auto":
        return registry.spec(name).name
    for spec in registry.by_auto_rank():
        missing = [m for m in spec.models if hub.MODELS[m].locate() is None]
        if missing:
            logger.info("auto engine: not %s (%s)", spec.name,
                        hub.missing_models_message(missing))
        elif spec.wants_gpu and not cuda_available():
            logger.info("auto engine: not %s (no CUDA device; choose %s to run it on the CPU)",
                        spec.name, spec.name)
        else:
            return spec.name
    raise AssertionError("the warp engine needs nothing and always runs")


def create_engine(name: str = "auto",
                  progress: hub.DownloadProgress | None = None) -> TransferEngine:
    """The engine by name (see :func:`resolve_engine`); one that needs Hub models fetches them
    first when they are not on disk and downloads are allowed (:func:`hub.require`)."""
    return registry.spec(resolve_engine(name)).create(progress)


__all__ = ["ENGINES", "TransferEngine", "WarpEngine", "create_engine", "cuda_available",
           "registry", "resolve_engine"]
