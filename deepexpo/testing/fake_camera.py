"""A fake webcam for Chromium: a clip of a bundled photo whose mouth opens and closes, fed to
``getUserMedia`` by Chromium's fake-capture flags (the clip loops)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from deepexpo.motion.controls import ExpressionControls, ExpressionEdit
from deepexpo.pipeline import TransferPipeline

#: The clip's frame rate and size (a common webcam mode).
FPS = 30
SIZE = (640, 480)
#: Mouth opening ("aaa") per frame over one period: one second closed, one second open, with a
#: few frames between.
PATTERN = [0.0] * 28 + [0.3, 0.6] + [0.9] * 28 + [0.6, 0.3]


def webcam_frame(image: np.ndarray) -> np.ndarray:
    """``image`` letterboxed into a ``SIZE`` frame."""
    w, h = SIZE
    scale = min(w / image.shape[1], h / image.shape[0])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    frame = np.full((h, w, 3), image[0, 0], np.uint8)
    x, y = (w - size[0]) // 2, (h - size[1]) // 2
    frame[y:y + size[1], x:x + size[0]] = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return frame


def make_clip(path: Path, photo: np.ndarray, pipeline: TransferPipeline) -> list[np.ndarray]:
    """Write the clip (y4m) of ``photo`` opening and closing its mouth as :data:`PATTERN`
    says, by the warp engine's expression editor; returns its frames."""
    prepared = pipeline.prepare_faces(photo)
    looks = {aaa: webcam_frame(pipeline.edit_image(photo, ExpressionEdit(
        ExpressionControls(aaa=aaa)), prepared=prepared)) for aaa in set(PATTERN)}
    frames = [looks[aaa] for aaa in PATTERN]
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo",
               "-pix_fmt", "rgb24", "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", str(FPS), "-i", "-",
               "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(command, input=b"".join(f.tobytes() for f in frames), check=True)
    return frames


def fake_camera_args(clip: Path) -> list[str]:
    """Chromium flags that make ``clip`` the webcam, allowed without asking."""
    return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}"]
