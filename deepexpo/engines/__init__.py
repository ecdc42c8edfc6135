"""Transfer engines behind one interface; :func:`create_engine` picks one by name.

The neural engine (and torch) is imported only when it is asked for and its weights are there.
"""

from __future__ import annotations

import logging
import os

from ..errors import InputError
from ..hub import MODELS
from ..neural.weights import locate_weights
from .base import TransferEngine
from .warp_engine import WarpEngine

logger = logging.getLogger(__name__)

ENGINES = ("auto", "warp", "neural")
#: ``fp32`` switches the neural engine's CUDA autocast off.
PRECISION_ENV = "DEEPEXPO_NEURAL_PRECISION"


def engine_availability() -> dict[str, str | None]:
    """Each engine by name, with the reason it cannot run here (``None`` when it can)."""
    neural = None if locate_weights() is not None else MODELS["neural"].missing_message()
    return {"warp": None, "neural": neural}


def create_engine(name: str = "auto") -> TransferEngine:
    """``auto`` is the neural engine when its weights are on disk, else the warp engine."""
    if name not in ENGINES:
        raise InputError(f"unknown engine '{name}' (choose from: {', '.join(ENGINES)})")
    if name == "warp":
        return WarpEngine()
    reason = engine_availability()["neural"]
    if reason is None:
        from .neural_engine import NeuralEngine

        return NeuralEngine(precision=os.environ.get(PRECISION_ENV, "auto"))
    if name == "neural":
        raise InputError(f"the neural engine is unavailable: {reason}")
    logger.warning("neural engine unavailable (%s); using the warp engine", reason)
    return WarpEngine()


__all__ = ["ENGINES", "TransferEngine", "WarpEngine", "create_engine", "engine_availability"]
