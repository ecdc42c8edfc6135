"""Transfer engines behind one interface; :func:`create_engine` picks one by name."""

from __future__ import annotations

from ..errors import InputError
from .base import TransferEngine
from .warp_engine import WarpEngine

ENGINES = ("auto", "warp", "neural")


def engine_availability() -> dict[str, str | None]:
    """Each engine by name, with the reason it cannot run here (``None`` when it can)."""
    return {"warp": None, "neural": "not part of this release yet"}


def create_engine(name: str = "auto") -> TransferEngine:
    """``auto`` is the best engine that can run here; today that is the warp engine."""
    if name in ("auto", "warp"):
        return WarpEngine()
    if name not in ENGINES:
        raise InputError(f"unknown engine '{name}' (choose from: {', '.join(ENGINES)})")
    raise InputError(f"the {name} engine is unavailable: {engine_availability()[name]}")


__all__ = ["ENGINES", "TransferEngine", "WarpEngine", "create_engine", "engine_availability"]
