"""Reading and writing still images, with the checks that keep bad input from going further."""

from __future__ import annotations

import os
import re
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


def read_image(path: str | os.PathLike, limits: InputLimits = INPUT_LIMITS) -> np.ndarray:
    """An RGB uint8 image from a file, or a one-line :class:`InputError`."""
    path = Path(path)
    check_file(path, IMAGE_SUFFIXES, "image", limits)
    limit = f"the limit is {limits.max_image_pixels / 1e6:.0f} megapixels"
    try:
        with Image.open(path) as im:
            # The header gives the size: refuse a decompression bomb before decoding it.
            w, h = im.size
            if w * h > limits.max_image_pixels:
                raise InputError(f"image '{path.name}' is {w}x{h} pixels; {limit}")
            image = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except InputError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own, far larger limit, at open
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels[1]):,} pixels" if pixels else "too many pixels"
        raise InputError(f"image '{path.name}' has {size}; {limit}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"cannot read image '{path.name}': the file is damaged or not an image") from exc
    return as_rgb(image, f"image '{path.name}'", limits)


def decode_image(data: bytes, what: str = "image") -> np.ndarray:
    """An RGB image from encoded bytes (a JPEG or PNG, say), or a one-line :class:`InputError`."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise InputError(f"cannot read {what}: not an image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def check_image_output(path: str | os.PathLike,
                       inputs: tuple[str | os.PathLike | None, ...] = ()) -> Path:
    """An image output path that is safe to write (see :func:`check_output`)."""
    return check_output(path, inputs, IMAGE_SUFFIXES, "an image")


def write_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write an RGB image; the file appears under ``path`` only once it is complete."""
    path = check_image_output(path)
    with atomic_output(path) as partial:
        if not cv2.imwrite(str(partial), np.ascontiguousarray(image[..., ::-1])):
            raise InputError(f"cannot write '{path}'")
    return path
