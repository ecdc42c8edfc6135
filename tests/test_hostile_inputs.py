"""Inputs a careless or hostile user sends: files whose headers promise more than the limits
(refused before decoding, fast), images in unusual modes, output names the image encoder
cannot take, and a disk that fills up while a video is written."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from deepexpo.config import InputLimits
from deepexpo.errors import EncodingError, InputError
from deepexpo.io.images import decode_image, read_image, write_image
from deepexpo.io.output import atomic_output
from deepexpo.io.video import Mp4Writer, iter_frames, probe_video

from .conftest import png_header_only

ROOT = Path(__file__).resolve().parents[1]


def gif_with_canvas(path: Path, side: int, frames: int) -> Path:
    """A GIF of ``frames`` one-pixel frames on a ``side`` x ``side`` canvas: a few bytes that
    decode to gigabytes for a reader that trusts the canvas."""
    images = [Image.new("P", (1, 1), i % 2) for i in range(frames)]
    for image in images:
        image.putpalette([0, 0, 0, 255, 255, 255])
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=40,
                   disposal=1, optimize=False)
    data = bytearray(buffer.getvalue())
    data[6:10] = struct.pack("<HH", side, side)  # the logical screen: the canvas
    path.write_bytes(bytes(data))
    return path


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "deepexpo", *args], capture_output=True,
                          text=True, timeout=180, env=env, **kwargs)


def test_a_gif_canvas_beyond_the_limit_is_refused_from_its_header(tmp_path):
    gif = gif_with_canvas(tmp_path / "canvas.gif", 12000, 200)
    assert gif.stat().st_size < 10_000
    start = time.perf_counter()
    with pytest.raises(InputError, match="12000x12000"):
        probe_video(gif)
    assert time.perf_counter() - start < 1.0


def test_a_gif_with_more_frames_than_the_limit_is_refused_before_decoding(tmp_path):
    gif = gif_with_canvas(tmp_path / "long.gif", 64, 300)
    start = time.perf_counter()
    with pytest.raises(InputError, match="300 frames"):
        probe_video(gif, InputLimits(max_video_frames=100))
    assert time.perf_counter() - start < 1.0


def test_a_decompression_bomb_gif_is_a_one_line_error(tmp_path, astronaut):
    """15000 x 15000 is past Pillow's own bomb limit: its error, not a traceback."""
    gif = gif_with_canvas(tmp_path / "bomb.gif", 15000, 1)
    assert gif.stat().st_size < 200
    with pytest.raises(InputError, match="15000x15000|pixels"):
        probe_video(gif)
    source = tmp_path / "face.png"
    Image.fromarray(astronaut).save(source)
    done = run_cli("transfer", "--source", str(source), "--driving", str(gif), "--output",
                   str(tmp_path / "out.mp4"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_an_animated_webp_canvas_beyond_the_limit_is_refused(tmp_path):
    frames = [Image.new("RGB", (16, 16), (60 * i, 0, 0)) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    data = bytearray(buffer.getvalue())
    vp8x = data.find(b"VP8X")
    data[vp8x + 12:vp8x + 18] = (11999).to_bytes(3, "little") * 2  # canvas width-1, height-1
    path = tmp_path / "canvas.webp"
    path.write_bytes(bytes(data))
    start = time.perf_counter()
    with pytest.raises(InputError, match="12000x12000"):
        read_image(path)
    assert time.perf_counter() - start < 1.0


def test_webcam_bytes_are_checked_from_the_header_against_the_limits(tmp_path, astronaut):
    bomb = png_header_only(tmp_path / "bomb.png", 12000, 12000).read_bytes()
    start = time.perf_counter()
    with pytest.raises(InputError, match="12000x12000"):
        decode_image(bomb, "webcam frame")
    assert time.perf_counter() - start < 0.5
    jpeg = cv2.imencode(".jpg", astronaut[..., ::-1])[1].tobytes()
    frame = decode_image(jpeg, "webcam frame")
    assert frame.shape == astronaut.shape and np.abs(frame.astype(int) - astronaut).mean() < 4
    with pytest.raises(InputError, match="512x512 pixels"):
        decode_image(jpeg, "webcam frame", InputLimits(max_image_pixels=100_000))
    with pytest.raises(InputError, match="not an image|damaged"):
        decode_image(b"\xff\xd8 not really a jpeg", "webcam frame")


def test_a_video_stream_beyond_the_limit_is_refused_without_decoding(tmp_path, monkeypatch):
    import imageio_ffmpeg

    wide = tmp_path / "wide.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=gray:s=2560x64:r=10:d=1", "-c:v", "libx264", "-pix_fmt",
                    "yuv420p", str(wide)], check=True, timeout=60)

    def no_decoding(*args, **kwargs):
        raise AssertionError("frames were decoded before the size was checked")

    monkeypatch.setattr(imageio_ffmpeg, "read_frames", no_decoding)
    with pytest.raises(InputError, match="2560x64"):
        probe_video(wide)


# Image modes -------------------------------------------------------------------------------

def test_a_16_bit_grey_photo_is_scaled_to_8_bits_not_clipped_to_white(tmp_path, hopper,
                                                                     measure):
    grey8 = cv2.cvtColor(hopper, cv2.COLOR_RGB2GRAY)
    path = tmp_path / "grey16.png"
    Image.fromarray(grey8.astype(np.uint16) * 257).save(path)
    assert Image.open(path).mode == "I;16"
    image = read_image(path)
    assert image.shape == (*grey8.shape, 3)
    assert np.abs(image[..., 0].astype(int) - grey8).max() <= 1
    measure.motion(image)  # a face is found in it


@pytest.mark.parametrize("mode", ["I", "F", "CMYK", "LA", "P"])
def test_unusual_modes_become_the_same_rgb_photo(tmp_path, hopper, mode):
    grey = cv2.cvtColor(hopper, cv2.COLOR_RGB2GRAY)
    if mode == "I":  # 32-bit integers holding 16-bit values
        image, expected = Image.fromarray(grey.astype(np.int32) * 257, "I"), grey
    elif mode == "F":  # floats in [0, 1]
        image, expected = Image.fromarray(grey.astype(np.float32) / 255), grey
    elif mode == "CMYK":
        image, expected = Image.fromarray(hopper).convert("CMYK"), hopper
    elif mode == "LA":  # the left half transparent: laid over white
        alpha = np.full_like(grey, 255)
        alpha[:, : grey.shape[1] // 2] = 0
        image = Image.fromarray(np.dstack([grey, alpha]), "LA")
        expected = grey.copy()
        expected[:, : grey.shape[1] // 2] = 255
    else:  # a palette whose colour 0 is transparent
        image = Image.fromarray(hopper).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
        pixels = np.asarray(image)
        image.info["transparency"] = 0
        expected = np.asarray(image.convert("RGB")).copy()
        expected[pixels == 0] = 255
    path = tmp_path / f"{mode}.{'tif' if mode in ('I', 'F', 'CMYK') else 'png'}"
    image.save(path)
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (*grey.shape, 3)
    if expected.ndim == 2:
        expected = np.repeat(expected[..., None], 3, axis=2)
    assert np.abs(out.astype(int) - expected).mean() < 3


# Output names and failed writes ------------------------------------------------------------

def test_an_image_output_name_that_is_not_utf8_is_written(tmp_path, astronaut):
    """``cv2.imwrite`` crashed the process (exit 139) on such a name."""
    path = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.png"))
    write_image(path, astronaut)
    assert (bytes(tmp_path) + b"/caf\xe9.png") in [os.fsencode(p) for p in tmp_path.iterdir()]
    assert np.array_equal(read_image(path), astronaut)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial file left


def _frames(n: int = 30) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(n)]


_FULL_DISK = """
import resource, sys
from pathlib import Path
import numpy as np
from deepexpo.errors import EncodingError
from deepexpo.io.output import atomic_output
from deepexpo.io.video import Mp4Writer
# Files past 100 kB cannot grow: the encoder's writes fail as on a full disk.
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
out, audio = Path(sys.argv[1]), (Path(sys.argv[2]) if len(sys.argv) > 2 else None)
rng = np.random.default_rng(0)
try:
    with atomic_output(out) as partial, Mp4Writer(partial, 10, audio_from=audio) as writer:
        for _ in range(30):
            writer.write(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
except EncodingError as exc:
    print("error:", exc)
"""


@pytest.mark.parametrize("with_audio", [False, True])
def test_a_full_disk_is_an_error_and_leaves_nothing(tmp_path, tone, with_audio):
    out = tmp_path / "out.mp4"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _FULL_DISK, str(out)]
                          + [str(tone)] * with_audio, capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("error: cannot write the video") \
        and done.stdout.count("\n") == 1, done.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_failed_mux_is_an_error_and_leaves_nothing(tmp_path):
    bad_audio = tmp_path / "sound.wav"
    bad_audio.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    out = tmp_path / "out.mp4"
    with pytest.raises(EncodingError, match="cannot add the sound of 'sound.wav'"):
        with atomic_output(out) as partial, Mp4Writer(partial, 10, audio_from=bad_audio) as w:
            for frame in _frames(5):
                w.write(frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sound.wav"]


def test_a_folder_of_frames_of_different_sizes_is_refused(tmp_path, astronaut):
    """Such frames reached the encoder as the wrong number of bytes: a garbled video."""
    folder = tmp_path / "frames"
    folder.mkdir()
    write_image(folder / "000.png", astronaut)
    write_image(folder / "001.png", astronaut[:256, :300])
    info = probe_video(folder)
    with pytest.raises(InputError, match="'001.png' is 300x256, the first 512x512"):
        list(iter_frames(info))
