"""The clips folder's index, ``clips.json``: what ``train neural`` reads.

``{"size": 256, "clips": [{"path": "relative/path.mp4", "source": "raw name", "frames": N,
"fps": F, "box": [x0, y0, x1, y1]}, ...]}``: each clip a square H.264 mp4 of one person at
``size`` pixels, ``path`` relative to the folder, ``source`` the raw video it was cut from
(relative to the raw folder), ``box`` its steady crop in that video's pixels. A reader also
takes a folder of mp4 clips without an index.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import InputError
from ..io.output import atomic_output

INDEX_NAME = "clips.json"


@dataclass(frozen=True)
class ClipRecord:
    path: str
    source: str
    frames: int
    fps: float
    box: tuple[int, int, int, int]


@dataclass
class ClipsIndex:
    size: int
    clips: list[ClipRecord]

    @classmethod
    def read(cls, folder: Path) -> ClipsIndex | None:
        """The folder's index; ``None`` when it has none."""
        path = folder / INDEX_NAME
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(data["size"]), [
                ClipRecord(str(c["path"]), str(c["source"]), int(c["frames"]), float(c["fps"]),
                           tuple(int(v) for v in c["box"]))  # type: ignore[arg-type]
                for c in data["clips"]])
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"'{path}' is not a clips index ({type(exc).__name__}): move it "
                             "away or choose another output folder") from exc

    def of_source(self, source: str) -> list[ClipRecord]:
        return [clip for clip in self.clips if clip.source == source]

    def replace_source(self, source: str, clips: list[ClipRecord]) -> None:
        """``source``'s clips from now on: those given, in place of the ones listed before."""
        self.clips = [clip for clip in self.clips if clip.source != source] + clips

    def write(self, folder: Path) -> None:
        data = {"size": self.size, "clips": [{**asdict(c), "box": list(c.box)}
                                             for c in self.clips]}
        with atomic_output(folder / INDEX_NAME) as partial:
            partial.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
