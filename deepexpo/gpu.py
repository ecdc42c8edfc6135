"""GPU work on a ZeroGPU Space: run inside ``spaces.GPU`` where the ``spaces`` package is
importable (it is preinstalled on Spaces, and not a dependency of ours), as it is elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def gpu_task(fn: F, duration: Callable[..., float]) -> F:
    """``fn`` asking ZeroGPU for ``duration(*args)`` seconds per call (``duration`` receives the
    same arguments as ``fn``); ``fn`` itself where ``spaces`` is not installed. Decorate before
    the app launches: ZeroGPU registers its functions then."""
    try:
        import spaces
    except ImportError:
        return fn
    return spaces.GPU(duration=duration)(fn)
