"""Transfer engines behind one interface; :func:`create_engine` picks one by name."""

from __future__ import annotations

from ..errors import InputError
from .base import TransferEngine
from .warp_engine import WarpEngine

ENGINES = ("auto", "warp")


def create_engine(name: str = "auto") -> TransferEngine:
    """``auto`` is the best engine that can run here; today that is the warp engine."""
    if name in ("auto", "warp"):
        return WarpEngine()
    raise InputError(f"unknown engine '{name}' (choose from: {', '.join(ENGINES)})")


__all__ = ["ENGINES", "TransferEngine", "WarpEngine", "create_engine"]
