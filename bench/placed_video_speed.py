"""Per-frame time of the warp engine on a face placed by hand driven by a video: what the
source's prepared state keeps (its eyes' and mouth's own colours, made once) against making it
again for every frame, as d982ed9 did, side by side in one run.

    python bench/placed_video_speed.py [--sources s22 s25] [--frames 60] [--repeats 3]

Each source (points from ``tests/placed_faces.py``) is driven by the first ``--frames`` frames
of the shared clip d0 (relative to its first frame; its blinks cover the animals' eyes and
its talking opens their mouths). Every frame is rendered ``--repeats`` times each way,
alternating (the fastest of each counted, so that other work on the machine shows less): with
the prepared source kept (``kept``) and with a copy of it made for the frame (``fresh``: every
colour it keeps made again). Prints milliseconds per frame (median and mean over the frames,
and the median of each frame's difference) and whether the two ways' frames are
pixel-identical.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepexpo.engines.source_faces import SourceFaces  # noqa: E402
from deepexpo.face.points import FacePoints  # noqa: E402
from deepexpo.io.images import read_image  # noqa: E402
from deepexpo.io.video import iter_frames, probe_video  # noqa: E402
from deepexpo.motion.compose import MotionOptions  # noqa: E402
from deepexpo.pipeline import TransferPipeline  # noqa: E402
from tests.placed_faces import PLACED  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


def _copy(faces: SourceFaces) -> SourceFaces:
    """``faces`` with a copy of each prepared source: nothing it made on first use kept."""
    return SourceFaces(faces.engine, faces.image, tuple(replace(s) for s in faces.sources))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", nargs="+", default=["s22", "s25"])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    pipeline = TransferPipeline("warp")
    info = probe_video(SAMPLES / "driving" / "d0.mp4", pipeline.limits)
    drivers = []
    for frame in iter_frames(info):
        if len(drivers) == args.frames:
            break
        drivers.append(pipeline.engine.extract(frame, pipeline.detect(frame, "driving frame")))
    options = MotionOptions()
    for name in args.sources:
        image = read_image(SAMPLES / "sources" / f"{name}.jpg")
        kept = pipeline.prepare_faces(
            image, points=[FacePoints.from_json_object(PLACED[f"{name}.jpg"])])
        kept.render(drivers[0], drivers[0], options)  # (what it keeps, made)
        times: dict[str, list[float]] = {"kept": [], "fresh": []}
        same = True
        for driver in drivers:
            best = {"kept": np.inf, "fresh": np.inf}
            for _ in range(args.repeats):
                for way in ("kept", "fresh"):
                    faces = kept if way == "kept" else _copy(kept)
                    start = time.perf_counter()
                    out = faces.render(driver, drivers[0], options)
                    best[way] = min(best[way], time.perf_counter() - start)
                    if way == "kept":
                        out_kept = out
                    else:
                        same &= bool(np.array_equal(out, out_kept))
            for way in best:
                times[way].append(best[way])
        fresh, kept_ = (1000 * np.array(times[way]) for way in ("fresh", "kept"))
        print(f"{name}: {len(drivers)} frames of d0, ms per frame: median fresh "
              f"{np.median(fresh):.1f} -> kept {np.median(kept_):.1f}, mean {fresh.mean():.1f} "
              f"-> {kept_.mean():.1f}, saved per frame (median of the differences) "
              f"{np.median(fresh - kept_):.1f}; pixel-identical: {same}")


if __name__ == "__main__":
    main()
