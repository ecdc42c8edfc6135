"""Video-to-video on the shared samples: a source video driven by each driving clip.

    python bench/video_to_video.py [--source ../shared/samples/sources/s18.mp4]
                                   [--drivers d0 d3 d12 d19] [--engine warp]

For ``region=expression`` it prints the per-frame Pearson r between the output's and the
driver's mouth opening (the driver time-aligned to the source) and between the output's and the
source's head yaw; for ``region=pose`` the driver's yaw and the source's mouth. Also the
real-time factor (seconds of work per second of source video, process start excluded).
Measured with our landmark model (MediaPipe); the mouth opening in the face's own frame, so that
a head turn does not read as speech. A correlation against a signal that barely moves (its
5-95 % range is printed beside it) says nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deepexpo.errors import NoFaceError  # noqa: E402
from deepexpo.face.measure import mouth_opening  # noqa: E402
from deepexpo.face.mediapipe_landmarker import MediaPipeLandmarker  # noqa: E402
from deepexpo.io.video import iter_frames, probe_video  # noqa: E402
from deepexpo.motion.compose import MotionOptions  # noqa: E402
from deepexpo.motion.extract import extract_motion  # noqa: E402
from deepexpo.pipeline import TransferPipeline  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "samples"


def signals(path: Path, landmarker: MediaPipeLandmarker, step: float = 1.0,
            count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mouth opening and yaw of frames ``round(i * step)``, i < ``count`` (NaN without a face)."""
    frames = list(iter_frames(probe_video(path)))
    count = count or len(frames)
    picked = [frames[min(int(i * step + 1e-6), len(frames) - 1)] for i in range(count)]
    mouth, yaw = [], []
    for frame in picked:
        try:
            face = landmarker.detect(frame)
        except NoFaceError:
            mouth.append(np.nan)
            yaw.append(np.nan)
            continue
        motion = extract_motion(face)  # the mouth in the face's own frame: a turn changes
        mouth.append(mouth_opening(motion.canonical))  # its width in the picture, not here
        yaw.append(motion.pose.euler[1])
    return np.array(mouth), np.array(yaw)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))  # a container's frame count can be off by one
    a, b = a[:n], b[:n]
    ok = ~(np.isnan(a) | np.isnan(b))
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=SAMPLES / "sources" / "s18.mp4")
    parser.add_argument("--drivers", nargs="+", default=["d0", "d3", "d12", "d19"])
    parser.add_argument("--engine", default="warp")
    args = parser.parse_args()
    landmarker = MediaPipeLandmarker()
    pipeline = TransferPipeline(args.engine)
    source = probe_video(args.source)
    src_mouth, src_yaw = signals(args.source, landmarker)
    out_dir = Path(tempfile.mkdtemp(prefix="deepexpo-v2v-"))
    print(f"source {args.source.name}: {source.frame_count} frames, {source.fps:g} fps, "
          f"{source.size[0]}x{source.size[1]}; engine {args.engine}")
    for name in args.drivers:
        driving = SAMPLES / "driving" / f"{name}.mp4"
        info = probe_video(driving)
        step = info.fps / source.fps
        drv_mouth, drv_yaw = signals(driving, landmarker, step, source.frame_count)
        for region in ("expression", "pose"):
            out = out_dir / f"{name}_{region}.mp4"
            start = time.perf_counter()
            pipeline.reenact_video(args.source, driving, out, MotionOptions(region=region))
            rtf = (time.perf_counter() - start) / source.duration
            mouth, yaw = signals(out, landmarker)
            pairs = ((("mouth", mouth, drv_mouth, "driver"), ("yaw", yaw, src_yaw, "source"))
                     if region == "expression" else
                     (("yaw", yaw, drv_yaw, "driver"), ("mouth", mouth, src_mouth, "source")))
            figures = ", ".join(f"{what} vs {whose} r={pearson(out, ref):.2f} "
                                f"(its range {np.nanpercentile(ref, 95) - np.nanpercentile(ref, 5):.2f})"
                                for what, out, ref, whose in pairs)
            print(f"{name} region={region:<10} {figures}, real-time factor {rtf:.2f}")


if __name__ == "__main__":
    main()
