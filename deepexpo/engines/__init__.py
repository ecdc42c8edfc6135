"""Transfer engines behind one interface; :func:`create_engine` picks one by name.

The neural engine (and torch) is imported only when it is asked for, or when ``auto`` finds its
weights on disk.
"""

from __future__ import annotations

import logging
import os

from .. import hub
from ..errors import InputError
from .base import TransferEngine
from .warp_engine import WarpEngine

logger = logging.getLogger(__name__)

ENGINES = ("auto", "warp", "neural")
#: ``fp32`` switches the neural engine's CUDA autocast off.
PRECISION_ENV = "DEEPEXPO_NEURAL_PRECISION"


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_engine(name: str = "auto") -> str:
    """The engine ``name`` stands for: ``auto`` is the neural engine when its weights are on
    disk and a CUDA device is there (on a CPU it takes seconds a frame), else the warp engine.
    Never downloads."""
    if name not in ENGINES:
        raise InputError(f"unknown engine '{name}' (choose from: {', '.join(ENGINES)})")
    if name != "auto":
        return name
    if hub.MODELS["neural"].locate() is None:
        logger.info("auto engine: warp (%s)", hub.MODELS["neural"].missing_message())
        return "warp"
    if not cuda_available():
        logger.info("auto engine: warp (no CUDA device; choose neural to run it on the CPU)")
        return "warp"
    return "neural"


def create_engine(name: str = "auto",
                  progress: hub.DownloadProgress | None = None) -> TransferEngine:
    """The engine by name (see :func:`resolve_engine`). ``neural`` fetches its weights first
    when they are not on disk and downloads are allowed (:func:`hub.require`)."""
    if resolve_engine(name) == "warp":
        return WarpEngine()
    weights = hub.require("neural", progress)
    from .neural_engine import NeuralEngine

    return NeuralEngine(weights=weights, precision=os.environ.get(PRECISION_ENV, "auto"))


__all__ = ["ENGINES", "TransferEngine", "WarpEngine", "create_engine", "resolve_engine"]
