"""MediaPipe's face solutions, imported without matplotlib's pyplot.

Importing any part of ``mediapipe`` runs its package ``__init__``, which imports its drawing
helpers, which import ``matplotlib.pyplot`` at their top: about half a second, a third of the
command line's start, for a 3D landmark plot DeepExPo never draws. While MediaPipe is
imported, ``matplotlib.pyplot`` is a stand-in that imports the real module the first time
anything is looked up on it; afterwards only the drawing helpers hold the stand-in, and any
other ``import matplotlib.pyplot`` gets the real module as usual.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


class _PyplotOnFirstUse(types.ModuleType):
    """Stands in for ``matplotlib.pyplot``; every lookup is answered by the real module."""

    def __getattr__(self, name: str) -> object:
        return getattr(importlib.import_module("matplotlib.pyplot"), name)


@contextmanager
def _pyplot_deferred() -> Iterator[None]:
    """``matplotlib.pyplot`` as a stand-in for the imports inside, unless MediaPipe or pyplot
    is loaded already (then there is nothing to leave out)."""
    if "mediapipe" in sys.modules or "matplotlib.pyplot" in sys.modules:
        yield
        return
    stand_in = _PyplotOnFirstUse("matplotlib.pyplot")
    sys.modules["matplotlib.pyplot"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("matplotlib.pyplot") is stand_in:
            del sys.modules["matplotlib.pyplot"]


with _pyplot_deferred():
    from mediapipe.python.solutions import face_detection, face_mesh, face_mesh_connections

__all__ = ["face_detection", "face_mesh", "face_mesh_connections"]
