"""Reading driving videos (mp4/mov/webm/gif/..., or a folder of frames) and writing H.264 mp4.

FFmpeg comes from ``imageio-ffmpeg``'s bundled binary, so nothing needs installing system-wide.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from ..config import INPUT_LIMITS, InputLimits
from ..errors import InputError
from .images import IMAGE_SUFFIXES, check_file, read_image
from .output import check_output

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".gif", ".mkv", ".avi", ".m4v")
FOLDER_FPS = 25.0  # frame rate assumed for a folder of frames
#: x264's quickest motion search: the encoder is a third of a video transfer's work, and this
#: takes a third off it, for a fifth more bytes and 1 dB less PSNR than ``veryfast``'s own.
_X264_SEARCH = "me=dia:subme=1"


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    fps: float
    frame_count: int
    size: tuple[int, int]  # (width, height)
    has_audio: bool

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps


def is_video(path: str | os.PathLike) -> bool:
    path = Path(path)
    return path.is_dir() or path.suffix.lower() in VIDEO_SUFFIXES


def _folder_frames(path: Path) -> list[Path]:
    frames = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not frames:
        raise InputError(f"folder '{path}' holds no image frames")
    return frames


def _probe_gif(path: Path) -> VideoInfo:
    """GIFs are read with Pillow: FFmpeg would resample them to a constant, often high, rate."""
    try:
        with Image.open(path) as im:
            durations = [frame.info.get("duration", 100) or 100 for frame in ImageSequence.Iterator(im)]
            size = im.size
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"cannot read video '{path.name}': the file is damaged or not a GIF") from exc
    return VideoInfo(path, 1000.0 / float(np.mean(durations)), len(durations), size, False)


def _probe_ffmpeg(path: Path) -> VideoInfo:
    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        reader.close()
    except (RuntimeError, OSError, StopIteration) as exc:
        raise InputError(f"cannot read video '{path.name}': the file is damaged or not a video") from exc
    fps = float(meta.get("fps") or 0.0)
    duration = float(meta.get("duration") or 0.0)
    if fps <= 0 or duration <= 0:
        raise InputError(f"cannot read video '{path.name}': no frame rate or duration")
    return VideoInfo(path, fps, int(round(fps * duration)), tuple(meta["size"]),
                     bool(meta.get("audio_codec")))


def probe_video(path: str | os.PathLike, limits: InputLimits = INPUT_LIMITS) -> VideoInfo:
    """Frame rate, length, size and audio of a video, checked against ``limits``."""
    path = Path(path)
    if path.is_dir():
        frames = _folder_frames(path)
        h, w = read_image(frames[0], limits).shape[:2]
        info = VideoInfo(path, FOLDER_FPS, len(frames), (w, h), False)
    else:
        check_file(path, VIDEO_SUFFIXES, "video", limits)
        info = _probe_gif(path) if path.suffix.lower() == ".gif" else _probe_ffmpeg(path)
    if info.frame_count > limits.max_video_frames or info.duration > limits.max_video_seconds:
        raise InputError(
            f"video '{path.name}' is too long ({info.frame_count} frames, {info.duration:.1f} s); "
            f"the limit is {limits.max_video_frames} frames and {limits.max_video_seconds:.0f} s"
        )
    if max(info.size) > limits.max_video_side:
        raise InputError(
            f"video '{path.name}' is {info.size[0]}x{info.size[1]}; the limit is "
            f"{limits.max_video_side} pixels on the longer side"
        )
    return info


def iter_frames(info: VideoInfo, limits: InputLimits = INPUT_LIMITS) -> Iterator[np.ndarray]:
    """RGB uint8 frames, never more than the frame limit."""
    if info.path.is_dir():
        for frame_path in _folder_frames(info.path)[: limits.max_video_frames]:
            yield read_image(frame_path, limits)
        return
    if info.path.suffix.lower() == ".gif":
        with Image.open(info.path) as im:
            for index, frame in enumerate(ImageSequence.Iterator(im)):
                if index >= limits.max_video_frames:
                    break
                yield np.asarray(frame.convert("RGB"))
        return
    reader = imageio_ffmpeg.read_frames(str(info.path), pix_fmt="rgb24")
    meta = next(reader)
    w, h = meta["size"]
    try:
        for index, buffer in enumerate(reader):
            if index >= limits.max_video_frames:
                break
            yield np.frombuffer(buffer, dtype=np.uint8).reshape(h, w, 3)
    finally:
        reader.close()


def check_video_output(path: str | os.PathLike,
                       inputs: tuple[str | os.PathLike | None, ...] = ()) -> Path:
    """An mp4 output path that is safe to write (see :func:`check_output`)."""
    return check_output(path, inputs, (".mp4",), "a video")


class Mp4Writer:
    """H.264 / yuv420p mp4 that browsers play, optionally with another file's audio track.

    Frames must all have the same size; odd sizes are cropped by one pixel (yuv420p needs even
    dimensions). The picture is encoded first; the sound is then muxed in, cut to the
    picture's exact length (a longer track, a source video's cut at the frame limit or a
    driver's, must not run past the last frame).
    """

    def __init__(self, path: str | os.PathLike, fps: float, audio_from: Path | None = None):
        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise InputError(f"video output must be an .mp4 file, not '{self.path.name}'")
        self.fps = fps
        self.audio_from = audio_from
        self.frames = 0
        self._picture = self.path.with_name(f".{self.path.stem}.picture.mp4") if audio_from \
            else self.path
        self._writer = None

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        h, w = h - h % 2, w - w % 2
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = imageio_ffmpeg.write_frames(
                str(self._picture),
                (w, h),
                fps=self.fps,
                codec="libx264",
                pix_fmt_in="yuv420p",
                pix_fmt_out="yuv420p",
                quality=None,
                macro_block_size=1,
                ffmpeg_log_level="error",
                output_params=["-crf", "18", "-preset", "veryfast", "-x264-params", _X264_SEARCH,
                               "-movflags", "+faststart"],
            )
            self._writer.send(None)
        # OpenCV's conversion gives the same BT.601 studio-range planes as FFmpeg's in a
        # quarter of the time, and half the bytes go through the pipe.
        self._writer.send(cv2.cvtColor(np.ascontiguousarray(frame[:h, :w]),
                                       cv2.COLOR_RGB2YUV_I420))
        self.frames += 1

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        if self.audio_from is not None:
            try:
                self._mux()
            finally:
                self._picture.unlink(missing_ok=True)

    def _mux(self) -> None:
        """The picture's stream copied, the sound (if the file has one) encoded as AAC."""
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
                   "-i", str(self._picture), "-i", str(self.audio_from),
                   "-map", "0:v", "-map", "1:a?", "-c:v", "copy", "-c:a", "aac",
                   "-t", f"{self.frames / self.fps:.6f}", "-movflags", "+faststart",
                   str(self.path)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise InputError(f"cannot add the sound of '{self.audio_from.name}': "
                             f"{' '.join(done.stderr.split())[:200]}")

    def __enter__(self) -> "Mp4Writer":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
            return
        with contextlib.suppress(Exception):  # the file is being discarded: keep the real error
            self.close()
        self._picture.unlink(missing_ok=True)
