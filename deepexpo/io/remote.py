"""Batch inputs named by ``fsspec`` URLs (``s3://``, ``gs://``, ``https://``, ...): copied to a
local temporary file for the task that reads it, so every reader (header checks, FFmpeg) keeps
taking a local path. For clusters whose nodes share no filesystem; fsspec comes with
``huggingface_hub``, and a protocol's own package (``s3fs``, ``gcsfs``) is the user's to add."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from ..config import INPUT_LIMITS, InputLimits
from ..errors import InputError

_CHUNK = 1 << 20


def is_url(name: str) -> bool:
    """Whether ``name`` is a URL (``scheme://...``), not a local path."""
    return "://" in name


@contextlib.contextmanager
def local_copy(name: str, limits: InputLimits = INPUT_LIMITS) -> Iterator[str]:
    """``name`` itself for a local path; for a URL, a temporary local copy under the URL's file
    name (its suffix tells images from videos), removed after the block. A copy stops one byte
    past ``limits.max_file_bytes``: the reader then refuses it as too large."""
    if not is_url(name):
        yield name
        return
    try:
        import fsspec
    except ImportError:
        raise InputError(f"reading '{name}' needs fsspec: pip install fsspec") from None
    file_name = PurePosixPath(urlparse(name).path).name or "input"
    with tempfile.TemporaryDirectory(prefix="deepexpo-") as folder:
        local = Path(folder) / file_name
        try:
            with fsspec.open(name, "rb") as remote, open(local, "wb") as out:
                shutil.copyfileobj(_Capped(remote, limits.max_file_bytes + 1), out, _CHUNK)
        except (OSError, ValueError, ImportError) as exc:  # unknown protocol, missing package
            raise InputError(f"cannot read '{name}': {exc}") from exc
        yield str(local)


class _Capped:
    """A binary stream that ends after ``limit`` bytes."""

    def __init__(self, stream, limit: int) -> None:  # noqa: ANN001 - any binary file object
        self.stream, self.left = stream, limit

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size) if size > 0 else b""
        self.left -= len(data)
        return data
