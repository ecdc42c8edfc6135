"""Whether a downloaded checkpoint is whole, without loading it: a truncated or corrupt file is
found before a library fails on it with a traceback."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a whole file of its kind, or ``None``: a safetensors header against
    the file's size, the zip directory of a ``.pth``, a JSON parse. Cheap: no tensor is read."""
    try:
        if path.suffix == ".safetensors":
            with open(path, "rb") as f:
                (length,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(length))
            end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"),
                      default=0)
            size = path.stat().st_size
            if size != 8 + length + end:
                return f"{size} bytes where its header promises {8 + length + end}"
        elif path.suffix in (".pth", ".pt", ".bin") and zipfile.is_zipfile(path):
            zipfile.ZipFile(path).close()
        elif path.suffix in (".pth", ".pt"):
            return "not a PyTorch zip archive"
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, struct.error, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        return " ".join(str(exc).split())[:120] or type(exc).__name__
    return None
