"""Speed and memory of the warp engine on this machine.

    python bench/transfer_speed.py [--driving VIDEO] [--frames N]

Prints, for a 512x512 25 fps driving video (9 s unless ``--frames``) and a 720 px photo: the
command line's end-to-end time (``python -m deepexpo transfer``, process start included) as a
fraction of the clip's duration and its peak memory; then the same work in-process, whole and
per stage (milliseconds per frame), and the static transfer time of a 1024 px photo after
warm-up. Targets: end to end <= 0.5 x the clip's duration, peak memory < 1 GB, static 1024 px
< 60 ms. Without ``--driving`` the driving video is made from scikit-image's astronaut photo,
moving.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import matplotlib.cbook
import numpy as np
from PIL import Image
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepexpo.face.landmarks import FaceLandmarks  # noqa: E402
from deepexpo.face.selection import FaceChoice  # noqa: E402
from deepexpo.face.tracking import FaceTracker  # noqa: E402
from deepexpo.io.video import Mp4Writer, iter_frames, probe_video  # noqa: E402
from deepexpo.motion.compose import MotionOptions  # noqa: E402
from deepexpo.pipeline import TransferPipeline  # noqa: E402


def make_driving_video(path: Path, frames: int, fps: float = 25.0) -> Path:
    """The astronaut, her head gently rocking and drifting: 512x512 at 25 fps."""
    image = data.astronaut()
    centre = (227.0, 120.0)
    with Mp4Writer(path, fps) as writer:
        for i in range(frames):
            t = i / fps
            m = cv2.getRotationMatrix2D(centre, 6.0 * np.sin(2 * np.pi * 0.5 * t), 1.0)
            m[:, 2] += (8.0 * np.sin(2 * np.pi * 0.3 * t), 4.0 * np.cos(2 * np.pi * 0.4 * t))
            writer.write(cv2.warpAffine(image, m, (512, 512), borderMode=cv2.BORDER_REFLECT))
    return path


def hopper(height: int) -> np.ndarray:
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        image = Image.open(f).convert("RGB")
    return np.asarray(image.resize((height * image.width // image.height, height),
                                   Image.LANCZOS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--driving", type=Path, help="a driving video (default: made here)")
    parser.add_argument("--frames", type=int, default=225, help="frames of the made video")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="deepexpo-bench-"))
    driving = args.driving or make_driving_video(tmp / "driving.mp4", args.frames)
    info = probe_video(driving)
    source = hopper(720)
    Image.fromarray(source).save(tmp / "photo.png")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "deepexpo", "transfer", "--source", str(tmp / "photo.png"),
                    "--driving", str(driving), "--output", str(tmp / "cli.mp4")], check=True,
                   cwd=Path(__file__).resolve().parents[1], stderr=subprocess.DEVNULL)
    cli = time.perf_counter() - start
    cli_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    pipeline = TransferPipeline("warp")
    pipeline.transfer_image(source, source)  # warm-up: models load, caches fill

    start = time.perf_counter()
    pipeline.transfer_video(source, driving, tmp / "out.mp4")
    total = time.perf_counter() - start

    # The same work again, one stage at a time.
    t0 = time.perf_counter()
    frames = list(iter_frames(info))
    t_decode = time.perf_counter() - t0
    tracker = FaceTracker(FaceChoice(), "driving video", info.fps)
    faces: list[FaceLandmarks] = []
    t0 = time.perf_counter()
    face = None
    for frame in frames:
        face = tracker(frame) or face
        faces.append(face)
    t_landmarks = time.perf_counter() - t0
    src = pipeline.prepare_faces(source)
    engine = pipeline.engine
    reference = engine.extract(frames[0], faces[0])
    t0 = time.perf_counter()
    outputs = [src.render(engine.extract(f, lm), reference, MotionOptions())
               for f, lm in zip(frames, faces, strict=True)]
    t_render = time.perf_counter() - t0
    t0 = time.perf_counter()
    with Mp4Writer(tmp / "encode.mp4", info.fps) as writer:
        for out in outputs:
            writer.write(out)
    t_encode = time.perf_counter() - t0

    photo = hopper(1024)
    driver = data.astronaut()
    pipeline.transfer_image(photo, driver)
    static = []
    for _ in range(5):
        t0 = time.perf_counter()
        pipeline.transfer_image(photo, driver)
        static.append(time.perf_counter() - t0)

    n = len(frames)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"driving video      : {info.size[0]}x{info.size[1]}, {n} frames, {info.fps:g} fps, "
          f"{info.duration:.1f} s; photo {source.shape[1]}x{source.shape[0]}")
    print(f"command line       : {cli:.1f} s = {cli / info.duration:.2f} x the clip's duration "
          f"(target <= 0.5), peak memory {cli_rss_mb:.0f} MB (target < 1024 MB)")
    print(f"in process         : {n / total:.1f} frames/s, {total / info.duration:.2f} x the "
          f"clip's duration")
    for name, seconds in [("decode", t_decode), ("landmarks", t_landmarks),
                          ("motion + warp", t_render), ("encode", t_encode)]:
        print(f"  {name:<17}: {1000 * seconds / n:6.1f} ms/frame")
    print(f"static 1024 px     : {1000 * statistics.median(static):.0f} ms median of 5 "
          f"({photo.shape[1]}x{photo.shape[0]}, target < 60 ms)")
    print(f"peak RSS here      : {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
