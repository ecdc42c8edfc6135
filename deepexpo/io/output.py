"""Writing results without ever losing a user's data: the output path is checked before any
work, and every file is written beside its target under a temporary name, then renamed when
complete, so a failure or an interruption leaves nothing under the output name."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import InputError


def check_output(path: str | os.PathLike, inputs: Iterable[str | os.PathLike | None],
                 suffixes: tuple[str, ...], kind: str) -> Path:
    """``path`` as a place a ``kind`` (with one of ``suffixes``) may be written, or a one-line
    :class:`InputError`: not an input (nor a link to one), not a folder, a known suffix, and a
    folder that exists or can be made and is writable."""
    path = Path(path)
    target = path.resolve()
    for given in inputs:
        if given is not None and Path(given).resolve() == target:
            raise InputError(f"the output '{path}' is also an input: choose another output name, "
                             "the input would be lost")
    if path.is_dir():
        raise InputError(f"the output '{path}' is a folder: give a file name")
    if path.suffix.lower() not in suffixes:
        raise InputError(f"cannot write {kind} as '{path.name}' (use {', '.join(suffixes)})")
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write '{path}': '{folder}' is not a writable folder")
    return path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix, so writers pick the same format), renamed
    to ``path`` when the block completes; removed if it fails or is interrupted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.partial{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
