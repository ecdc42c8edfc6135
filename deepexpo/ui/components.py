"""Components the app's tabs share."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import cv2
import gradio as gr
import numpy as np
from gradio.data_classes import Base64ImageData


def image_upload(label: str, **kwargs: Any) -> gr.Image:
    """An image upload handed to the library as its file path, undecoded. The library's reader
    checks format and size and says what is wrong in one line, where Gradio's own decoding
    would turn a damaged file into a generic error. (Overridden on the instance: a Component
    subclass would make Gradio write a ``.pyi`` stub into the package at import.)"""
    image = gr.Image(type="filepath", label=label, **kwargs)
    image.preprocess = lambda payload: None if payload is None else str(payload.path)
    return image


def streamed_image(label: str, quality: int = 85, **kwargs: Any) -> gr.Image:
    """An output image sent inline, as a JPEG data URL in the result's own message, instead of
    as a file the browser then fetches: for a stream of results, one request and one file
    less each."""
    image = gr.Image(type="numpy", label=label, interactive=False, **kwargs)

    def postprocess(value: np.ndarray | None) -> Base64ImageData | None:
        if value is None:
            return None
        _, jpeg = cv2.imencode(".jpg", np.ascontiguousarray(value[..., ::-1]),
                                [cv2.IMWRITE_JPEG_QUALITY, quality])
        return Base64ImageData(url="data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode())

    image.postprocess = postprocess
    return image


def webcam_stream(label: str, **kwargs: Any) -> gr.Image:
    """A webcam streamed to its handler, each frame still JPEG-encoded (bytes, ``b""`` when
    it is not a well-formed data URL): a frame the handler drops costs no decoding."""
    image = gr.Image(sources=["webcam"], streaming=True, label=label, **kwargs)
    image.preprocess = lambda payload: None if payload is None else _data_url_bytes(payload.url)
    return image


def _data_url_bytes(url: str | None) -> bytes:
    if not url or not url.startswith("data:") or "," not in url:
        return b""
    try:
        return base64.b64decode(url.split(",", 1)[1])
    except binascii.Error:
        return b""
