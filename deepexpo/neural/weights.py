"""Where the neural engine's weights are, found on disk without loading torch.

Looked for, first to last: ``DEEPEXPO_NEURAL_WEIGHTS`` (a folder of the published files, or our
safetensors file), the repository's ``weights/`` folder, and the Hugging Face cache that
``python -m deepexpo download neural`` fills.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DeepExPoError
from ..hub import LIVEPORTRAIT_FILES, MODELS

WEIGHTS_ENV = "DEEPEXPO_NEURAL_WEIGHTS"
WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
SAFETENSORS_NAME = "liveportrait.safetensors"


class CheckpointError(DeepExPoError):
    """Weights that are missing or do not fit the networks."""


def published_paths(folder: str | os.PathLike) -> dict[str, Path]:
    """Each network's published file under ``folder``; a one-line error names what is missing."""
    folder = Path(folder)
    paths, missing = {}, []
    for name, relative in LIVEPORTRAIT_FILES.items():
        for candidate in (folder / relative, folder / Path(relative).name):
            if candidate.is_file():
                paths[name] = candidate
                break
        else:
            missing.append(Path(relative).name)
    if missing:
        raise CheckpointError(f"missing neural engine weights in '{folder}': {', '.join(missing)}")
    return paths


def locate_weights() -> Path | None:
    """The first place holding the neural engine's weights (see ``WEIGHTS_ENV``), or ``None``.
    Looks on disk only."""
    candidates = [Path(p) for p in [os.environ.get(WEIGHTS_ENV)] if p]
    candidates += [WEIGHTS_DIR / SAFETENSORS_NAME, WEIGHTS_DIR]
    cached = MODELS["neural"].cached_folder()
    candidates += [cached] if cached is not None else []
    for path in candidates:
        if path.is_file() and path.suffix == ".safetensors":
            return path
        if path.is_dir():
            try:
                published_paths(path)
            except CheckpointError:
                continue
            return path
    return None
