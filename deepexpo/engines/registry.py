"""Every transfer engine, declared once: what the engine list, ``auto``, GPU routing, the app's
Models panel and the ZeroGPU budget read about it.

Adding an engine is its module plus one :func:`register` call (in :mod:`deepexpo.engines`).
Front ends ask here instead of naming engines: ``registry.spec(name).wants_gpu`` routes work to
the GPU, ``registry.spec(name).gpu_seconds_per_frame`` sizes a ZeroGPU task
(:func:`deepexpo.application.work_gpu_seconds`),
``registry.spec(name).models`` lists the Hub models to fetch before the engine is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from ..hub import DownloadProgress
    from .base import TransferEngine


@dataclass(frozen=True)
class EngineSpec:
    """One engine as the rest of the program sees it."""

    name: str
    summary: str  # one line for the Models panel
    #: Builds the engine (its Hub models fetched first when allowed, with ``progress``).
    create: Callable[[DownloadProgress | None], TransferEngine]
    models: tuple[str, ...] = ()  # the Hub models it needs (:mod:`deepexpo.hub` names)
    wants_gpu: bool = False  # its work goes through the app's GPU task (ZeroGPU)
    gpu_seconds_per_frame: float = 0.0  # one rendered frame on a GPU
    cpu_seconds_per_frame: float = 0.0  # and on a 2-core CPU
    #: ``auto`` takes the highest-ranked engine whose models are on disk and, if it wants a
    #: GPU, with a CUDA device there.
    auto_rank: int = 0

    def seconds_per_frame(self, cuda: bool) -> float:
        return self.gpu_seconds_per_frame if cuda else self.cpu_seconds_per_frame


_SPECS: dict[str, EngineSpec] = {}


def register(spec: EngineSpec) -> EngineSpec:
    if spec.name in _SPECS or spec.name == "auto":
        raise ValueError(f"engine '{spec.name}' is already registered")
    _SPECS[spec.name] = spec
    return spec


def names() -> tuple[str, ...]:
    """The registered engines, in registration order (``auto`` is not one)."""
    return tuple(_SPECS)


def spec(name: str) -> EngineSpec:
    """The engine called ``name``; a one-line :class:`InputError` for any other name."""
    if name not in _SPECS:
        raise InputError(f"unknown engine '{name}' (choose from: {', '.join(('auto', *_SPECS))})")
    return _SPECS[name]


def by_auto_rank() -> list[EngineSpec]:
    return sorted(_SPECS.values(), key=lambda s: -s.auto_rank)
