"""Reading driving videos (mp4/mov/webm/gif/..., or a folder of frames) and writing H.264 mp4.

FFmpeg comes from ``imageio-ffmpeg``'s bundled binary, so nothing needs installing system-wide.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import cv2
import imageio_ffmpeg
import numpy as np
from imageio_ffmpeg._parsing import parse_ffmpeg_header
from PIL import ImageSequence, UnidentifiedImageError

from ..config import INPUT_LIMITS, InputLimits
from ..errors import EncodingError, InputError
from .images import IMAGE_SUFFIXES, check_file, open_image, read_image
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
    #: Frames at uneven intervals (the stream's average rate differs from its base rate):
    #: decoded at ``fps`` by timestamp, each frame repeated or dropped to keep the timing.
    variable_rate: bool = False

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


def _side_limit(limits: InputLimits) -> str:
    return f"the limit is {limits.max_video_side} pixels on the longer side"


def _check_size(path: Path, size: tuple[int, int], limits: InputLimits) -> None:
    """The picture size (from a header) against ``limits``, before any frame is decoded."""
    if max(size) > limits.max_video_side:
        raise InputError(f"video '{path.name}' is {size[0]}x{size[1]}; {_side_limit(limits)}")


def _check_length(path: Path, frames: int, seconds: float, limits: InputLimits) -> None:
    if frames > limits.max_video_frames or seconds > limits.max_video_seconds:
        raise InputError(
            f"video '{path.name}' is too long ({frames} frames, {seconds:.1f} s); "
            f"the limit is {limits.max_video_frames} frames and {limits.max_video_seconds:.0f} s"
        )


def _probe_gif(path: Path, limits: InputLimits) -> VideoInfo:
    """GIFs are read with Pillow: FFmpeg would resample them to a constant, often high, rate.
    The canvas and the frame count come from the blocks' headers (``n_frames`` skips the
    pixels); only a GIF within the limits has its frames' durations read."""
    try:
        with open_image(path, "video", limits.max_video_side**2, _side_limit(limits)) as im:
            _check_size(path, im.size, limits)
            n_frames: int = im.n_frames  # type: ignore[attr-defined]  # a GIF's (Pillow's stubs lack it)
            if n_frames > limits.max_video_frames:
                raise InputError(f"video '{path.name}' is too long ({n_frames} frames); the "
                                 f"limit is {limits.max_video_frames} frames")
            durations = [frame.info.get("duration", 100) or 100
                         for frame in ImageSequence.Iterator(im)]
            size = im.size
    except (UnidentifiedImageError, OSError, EOFError) as exc:
        raise InputError(f"cannot read video '{path.name}': the file is damaged or not a GIF") from exc
    return VideoInfo(path, 1000.0 / float(np.mean(durations)), len(durations), size, False)


def _ffmpeg(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """FFmpeg run to completion on a file (never on a pipe from us), its output captured."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise InputError("reading the video took too long; the file may be damaged") from exc


def _stream_header(path: Path) -> dict:
    """What FFmpeg's header parse says of the first video stream (size, frame rate, duration,
    audio), read without decoding a frame."""
    text = _ffmpeg("-i", str(path), timeout=30.0).stderr
    try:  # the parser skips two version lines, which -hide_banner left out
        meta = parse_ffmpeg_header("ffmpeg version\n\n" + text)
    except (IndexError, ValueError, AttributeError) as exc:
        raise InputError(f"cannot read video '{path.name}': the file is damaged or not a "
                         "video") from exc
    if re.search(r"rotation of -?90", text):  # FFmpeg turns the frames upright when decoding
        meta["size"] = meta["size"][::-1]
    stream = next(line for line in text.splitlines() if " Video: " in line)
    tbr = re.search(r" (\d+(?:\.\d+)?)(k?) tbr", stream)
    meta["tbr"] = float(tbr[1]) * (1000 if tbr[2] else 1) if tbr else 0.0
    return meta


def _count_frames(path: Path) -> tuple[int, float]:
    """(frames, seconds) of the first video stream from its packets' timestamps, for a stream
    whose header gives no duration or frame rate (a browser's WebM recording): the packets
    are read, not decoded."""
    done = _ffmpeg("-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-")
    base = re.search(r"^#tb 0: (\d+)/(\d+)", done.stdout, re.M)
    try:
        packets = [[int(v) for v in line.split(",")[2:4]] for line in done.stdout.splitlines()
                   if line.startswith("0,")]
    except ValueError:  # a packet without a timestamp
        packets = []
    if done.returncode != 0 or base is None or not packets:
        raise InputError(f"cannot read video '{path.name}': no video frames found")
    pts, durations = np.array(packets).T
    unit = int(base[1]) / int(base[2])
    span = float(pts.max() - pts.min())
    step = np.median(durations) if durations.any() else span / max(len(pts) - 1, 1)
    return len(pts), (span + step) * unit


def _probe_ffmpeg(path: Path, limits: InputLimits) -> VideoInfo:
    meta = _stream_header(path)
    _check_size(path, tuple(meta["size"]), limits)
    fps, duration = float(meta.get("fps") or 0.0), float(meta.get("duration") or 0.0)
    if fps <= 0 or duration <= 0:
        frames, duration = _count_frames(path)
        fps = frames / duration if duration > 0 else 0.0
    if fps <= 0:
        raise InputError(f"cannot read video '{path.name}': no frame rate")
    variable = meta["tbr"] > 0 and abs(meta["tbr"] - fps) > 0.01 * fps
    return VideoInfo(path, fps, max(1, round(fps * duration)), tuple(meta["size"]),
                     bool(meta.get("audio_codec")), variable)


def probe_video(path: str | os.PathLike, limits: InputLimits = INPUT_LIMITS) -> VideoInfo:
    """Frame rate, length, size and audio of a video, checked against ``limits`` from its
    headers, before any frame is decoded."""
    path = Path(path)
    if path.is_dir():
        frames = _folder_frames(path)
        h, w = read_image(frames[0], limits).shape[:2]
        info = VideoInfo(path, FOLDER_FPS, len(frames), (w, h), False)
    else:
        check_file(path, VIDEO_SUFFIXES, "video", limits)
        info = (_probe_gif(path, limits) if path.suffix.lower() == ".gif"
                else _probe_ffmpeg(path, limits))
    _check_length(path, info.frame_count, info.duration, limits)
    _check_size(path, info.size, limits)
    return info


def iter_frames(info: VideoInfo,
                limits: InputLimits = INPUT_LIMITS) -> Generator[np.ndarray, None, None]:
    """RGB uint8 frames, never more than the frame limit. A variable-rate video's frames are
    placed by their timestamps at ``info.fps``, its average rate, and it ends at its
    duration."""
    if info.path.is_dir():
        for frame_path in _folder_frames(info.path)[: limits.max_video_frames]:
            frame = read_image(frame_path, limits)
            if frame.shape[1::-1] != tuple(info.size):
                raise InputError(f"frame '{frame_path.name}' is {frame.shape[1]}x"
                                 f"{frame.shape[0]}, the first {info.size[0]}x{info.size[1]}: "
                                 "a folder's frames must all have one size")
            yield frame
        return
    if info.path.suffix.lower() == ".gif":
        with open_image(info.path, "video", limits.max_video_side**2, _side_limit(limits)) as im:
            for index, picture in enumerate(ImageSequence.Iterator(im)):
                if index >= limits.max_video_frames:
                    break
                yield np.asarray(picture.convert("RGB"))
        return
    timing = ["-fps_mode", "cfr", "-r", f"{info.fps:.6f}"] if info.variable_rate else []
    count = min(limits.max_video_frames, info.frame_count if info.variable_rate else 2**31)
    reader = imageio_ffmpeg.read_frames(str(info.path), pix_fmt="rgb24",
                                        output_params=[*timing, "-map", "0:v:0"])
    try:
        w, h = next(reader)["size"]
        for index, buffer in enumerate(reader):
            if index >= count:
                break
            yield np.frombuffer(buffer, dtype=np.uint8).reshape(h, w, 3)
    except (RuntimeError, OSError, StopIteration) as exc:  # FFmpeg failed on the stream
        raise InputError(f"cannot read video '{info.path.name}': the file is damaged") from exc
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
    driver's, must not run past the last frame). Every FFmpeg run's exit status is checked: a
    failed encode or mux (a full disk, say) is a one-line :class:`EncodingError`, and the
    caller's :func:`~deepexpo.io.output.atomic_output` leaves nothing under the output name.
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
        self._encoder: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None

    def _start(self, w: int, h: int) -> subprocess.Popen:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # FFmpeg's messages go to a file, not a pipe: a pipe nobody reads while frames are
        # sent would fill and stall both sides.
        self._log = tempfile.TemporaryFile()
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-y",
                   "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                   "-s", f"{w}x{h}", "-r", f"{self.fps:.6f}", "-i", "-", "-an",
                   "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18", "-preset", "veryfast",
                   "-x264-params", _X264_SEARCH, "-movflags", "+faststart", str(self._picture)]
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=self._log)

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        h, w = h - h % 2, w - w % 2
        if self._encoder is None:
            self._encoder = self._start(w, h)
        # OpenCV's conversion gives the same BT.601 studio-range planes as FFmpeg's in a
        # quarter of the time, and half the bytes go through the pipe.
        planes = cv2.cvtColor(np.ascontiguousarray(frame[:h, :w]), cv2.COLOR_RGB2YUV_I420)
        try:
            cast(IO[bytes], self._encoder.stdin).write(planes.tobytes())  # opened with PIPE
        except (BrokenPipeError, OSError):  # the encoder stopped: its exit says why
            self._finish_encoder()
            raise EncodingError("the video encoder stopped unexpectedly") from None
        self.frames += 1

    def _finish_encoder(self) -> None:
        """Wait for the encoder; a non-zero exit is an :class:`EncodingError` with its
        reason."""
        # Called once the encoder and its log exist (close() checks; write() started them).
        encoder, self._encoder = cast(subprocess.Popen, self._encoder), None
        log = cast(IO[bytes], self._log)
        with contextlib.suppress(OSError):
            cast(IO[bytes], encoder.stdin).close()
        code = encoder.wait()
        log.seek(0)
        message = log.read().decode("utf-8", "replace")
        log.close()
        if code != 0:
            raise EncodingError(f"cannot write the video: {_ffmpeg_reason(message, code)}")

    def close(self) -> None:
        if self._encoder is None:
            return
        try:
            self._finish_encoder()
            if self.audio_from is not None:
                self._mux()
        finally:
            if self.audio_from is not None:
                self._picture.unlink(missing_ok=True)

    def _mux(self) -> None:
        """The picture's stream copied, the sound (if the file has one) encoded as AAC."""
        done = _ffmpeg("-y", "-loglevel", "error",
                       "-i", str(self._picture), "-i", str(self.audio_from),
                       "-map", "0:v", "-map", "1:a?", "-c:v", "copy", "-c:a", "aac",
                       "-t", f"{self.frames / self.fps:.6f}", "-movflags", "+faststart",
                       str(self.path), timeout=600.0)
        if done.returncode != 0:
            raise EncodingError(f"cannot add the sound of '{cast(Path, self.audio_from).name}': "
                                f"{_ffmpeg_reason(done.stderr, done.returncode)}")

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
            return
        if self._encoder is not None:  # the file is being discarded: keep the real error
            self._encoder.kill()
            with contextlib.suppress(Exception):
                self._finish_encoder()
        self._picture.unlink(missing_ok=True)


def _ffmpeg_reason(message: str, code: int) -> str:
    """FFmpeg's last line of complaint, without paths (they may be the server's)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    known = ("No space left on device", "Disk quota exceeded", "Permission denied",
             "Read-only file system", "File too large")
    for reason in known:
        if any(reason in line for line in lines):
            return reason.lower()
    if code < 0 and not lines:
        with contextlib.suppress(ValueError):
            return f"FFmpeg was stopped by {signal.Signals(-code).name}" + (
                " (the file size limit)" if -code == getattr(signal, "SIGXFSZ", 0) else "")
    last = lines[-1] if lines else f"FFmpeg exited with status {code}"
    return re.sub(r"(/[^\s:']+)+", "<file>", last)[:160]
