"""Reading and writing still images, with the checks that keep bad input from going further."""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..config import INPUT_LIMITS, InputLimits
from ..errors import InputError
from .output import atomic_output, check_output

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def check_file(path: Path, suffixes: tuple[str, ...], kind: str,
               limits: InputLimits = INPUT_LIMITS) -> None:
    """A readable file of a supported ``kind`` (its suffix) and size, or an :class:`InputError`."""
    if not path.is_file():
        raise InputError(f"file not found: '{path}'")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise InputError(
            f"'{path.name}' is {size / 2**20:.0f} MB; the limit is {limits.max_file_bytes / 2**20:.0f} MB"
        )
    if path.suffix.lower() not in suffixes:
        raise InputError(
            f"unsupported {kind} format '{path.suffix}' for '{path.name}' "
            f"(supported: {', '.join(suffixes)})"
        )


def as_rgb(image: np.ndarray, what: str = "image", limits: InputLimits = INPUT_LIMITS) -> np.ndarray:
    """An RGB uint8 array from an array of any common layout (grey, RGBA, float in [0, 1])."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"{what} must be an image array, not {type(image).__name__}")
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or min(image.shape[:2]) < 16:
        raise InputError(f"{what} has an unsupported shape {image.shape}")
    if image.shape[0] * image.shape[1] > limits.max_image_pixels:
        raise InputError(
            f"{what} is {image.shape[1]}x{image.shape[0]} pixels; the limit is "
            f"{limits.max_image_pixels / 1e6:.0f} megapixels"
        )
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    image = image[..., :3]
    if image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating) and image.max() <= 1.0:
            image = image * 255.0
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def fit_within(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` scaled down (area-averaged) so that its longer side is at most ``max_side``;
    a smaller one as it is."""
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image
    return cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                      interpolation=cv2.INTER_AREA)


# Every image's size is checked against DeepExPo's own, lower limit from its header, so
# Pillow's warning for large images would only repeat that to the terminal.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)


@contextlib.contextmanager
def open_image(path: str | os.PathLike | io.BytesIO, what: str = "image",
               max_pixels: int = INPUT_LIMITS.max_image_pixels,
               limit: str | None = None) -> Iterator[Image.Image]:
    """A Pillow image whose size (canvas, for an animation) is read from its header and
    checked against ``max_pixels`` before any pixel is decoded; a damaged file (also found
    while decoding inside the block) or a decompression bomb is a one-line
    :class:`InputError`; ``limit`` says what the limit is, in its words."""
    name = f"{what} '{Path(path).name}'" if isinstance(path, (str, os.PathLike)) else what
    limit = limit or f"the limit is {max_pixels / 1e6:.0f} megapixels"
    try:
        with Image.open(path) as im:
            w, h = im.size
            if w * h > max_pixels:
                raise InputError(f"{name} is {w}x{h} pixels; {limit}")
            yield im
    except InputError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own, far larger limit, at open
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels[1]):,} pixels" if pixels else "too many pixels"
        raise InputError(f"{name} has {size}; {limit}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        problem = "the file is damaged or not an image" if name != what else "not an image"
        raise InputError(f"cannot read {name}: {problem}") from exc


def pil_to_rgb(im: Image.Image) -> np.ndarray:
    """An RGB uint8 array of a decoded Pillow image of any mode: 16- and 32-bit greys scaled
    to 8 bits (Pillow's own conversion clips them, and a 16-bit photo turns white), floats
    in [0, 1] scaled, transparency laid over white, CMYK and palettes converted."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        grey = np.asarray(im, dtype=np.float64)
        top = grey.max() if grey.size else 0.0
        if im.mode == "F" and top <= 1.0:
            grey = grey * 255.0
        elif im.mode != "F" and (im.mode.startswith("I;16") or top > 255):
            grey = grey / 257.0
        grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if "A" in im.mode or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(im.convert("RGB"))


def read_image(path: str | os.PathLike, limits: InputLimits = INPUT_LIMITS) -> np.ndarray:
    """An RGB uint8 image from a file, or a one-line :class:`InputError`."""
    path = Path(path)
    check_file(path, IMAGE_SUFFIXES, "image", limits)
    with open_image(path, "image", limits.max_image_pixels) as im:
        image = pil_to_rgb(ImageOps.exif_transpose(im))
    return as_rgb(image, f"image '{path.name}'", limits)


def decode_image(data: bytes, what: str = "image",
                 limits: InputLimits = INPUT_LIMITS) -> np.ndarray:
    """An RGB image from encoded bytes (a webcam frame's JPEG or PNG, say), its size checked
    from the header against ``limits`` before it is decoded; or a one-line
    :class:`InputError`."""
    if not data:
        raise InputError(f"cannot read {what}: not an image")
    if len(data) > limits.max_file_bytes:
        raise InputError(f"{what} is {len(data) / 2**20:.0f} MB; the limit is "
                         f"{limits.max_file_bytes / 2**20:.0f} MB")
    with open_image(io.BytesIO(data), what, limits.max_image_pixels) as im:
        image = pil_to_rgb(im)
    return as_rgb(image, what, limits)


def check_image_output(path: str | os.PathLike,
                       inputs: tuple[str | os.PathLike | None, ...] = ()) -> Path:
    """An image output path that is safe to write (see :func:`check_output`)."""
    return check_output(path, inputs, IMAGE_SUFFIXES, "an image")


def write_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write an RGB image; the file appears under ``path`` only once it is complete. OpenCV
    encodes to memory and Python writes the bytes: ``cv2.imwrite`` crashes the process on a
    file name that is not valid UTF-8."""
    path = check_image_output(path)
    ok, encoded = cv2.imencode(path.suffix.lower(), np.ascontiguousarray(image[..., ::-1]))
    if not ok:
        raise InputError(f"cannot encode the image as '{path.suffix}'")
    with atomic_output(path) as partial:
        try:
            partial.write_bytes(encoded.tobytes())
        except OSError as exc:
            raise InputError(f"cannot write '{path.name}': {exc.strerror or exc}") from exc
    return path
