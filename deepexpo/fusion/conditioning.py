"""What feeds the branches: a request's images turned into the tensors and drawings the
generation models take.

One object per pipeline owns the face models (the identity branch's CLIP image encoder and
processor, and a MediaPipe landmarker made on first use), so that neither loading nor each
request builds them again.
"""

from __future__ import annotations

import numpy as np
import torch
from diffusers.models.embeddings import IPAdapterFaceIDImageProjection
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

from ..errors import DeepExPoError
from ..face.crop import FaceCrop
from ..face.landmarks import FaceLandmarks, Landmarker, create_landmarker
from ..motion.extract import extract_motion
from .face_condition import draw_face_condition
from .semantics import semantic_vector

IDENTITY_CROP_SCALE = 1.8  # a face crop as IP-Adapter's face models saw: face, a little hair

_NO_IDENTITY = "no identity branch is loaded: identity embeddings need its CLIP image encoder"


def branch_input_dim(unet: UNet2DConditionModel, index: int) -> int:
    """The embedding size branch ``index``'s projection takes (FaceID-style MLP projections,
    the layout a semantic branch is saved in)."""
    projection = unet.encoder_hid_proj.image_projection_layers[index]
    if not isinstance(projection, IPAdapterFaceIDImageProjection):
        raise DeepExPoError(f"branch {index} is not an MLP (FaceID-layout) projection: "
                            f"its input size is unknown ({type(projection).__name__})")
    return projection.ff.net[0].proj.in_features


class FaceConditioner:
    """Identity embeddings, semantic embeddings and the ControlNet's landmark drawing."""

    def __init__(self, image_encoder: CLIPVisionModelWithProjection | None = None,
                 image_processor: CLIPImageProcessor | None = None,
                 landmarker: Landmarker | None = None):
        self.image_encoder = image_encoder
        self.image_processor = image_processor
        self._landmarker = landmarker
        self._unconditional: torch.Tensor | None = None  # the encoding of a black crop

    @property
    def landmarker(self) -> Landmarker:
        """Made on first use: a pipeline without a reference or identity never needs one."""
        if self._landmarker is None:
            self._landmarker = create_landmarker()
        return self._landmarker

    def close(self) -> None:
        """Free the landmarker's MediaPipe graphs (a later use makes a new one)."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def _face(self, image: np.ndarray, what: str) -> FaceLandmarks:
        return self.landmarker.detect(image, what)

    # --- identity -------------------------------------------------------------------------

    def _processor(self) -> CLIPImageProcessor:
        if self.image_processor is None:
            raise DeepExPoError(_NO_IDENTITY)
        return self.image_processor

    def _encoder(self) -> CLIPVisionModelWithProjection:
        if self.image_encoder is None:
            raise DeepExPoError(_NO_IDENTITY)
        return self.image_encoder

    def identity_crop(self, image: np.ndarray | None) -> np.ndarray:
        """The identity's aligned face crop at the image encoder's input size (black without
        an image: the unconditional input)."""
        size = self._processor().crop_size["height"]
        if image is None:
            return np.zeros((size, size, 3), np.uint8)
        face = self._face(image, "identity image")
        return FaceCrop.from_landmarks(face.xy, IDENTITY_CROP_SCALE, 0.0).cut(image, size)

    def encode_faces(self, crops: list[np.ndarray]) -> torch.Tensor:
        """(B, 1, tokens, dim) CLIP penultimate hidden states, what plus-face adapters read."""
        return self._encode(self._processor()(images=crops, return_tensors="pt").pixel_values)

    def _encode(self, pixels: torch.Tensor) -> torch.Tensor:
        encoder = self._encoder()
        pixels = pixels.to(encoder.device, encoder.dtype)
        with torch.no_grad():
            return encoder(pixels, output_hidden_states=True).hidden_states[-2][:, None]

    def identity_embeds(self, image: np.ndarray | None) -> torch.Tensor:
        """(2, 1, tokens, dim): [unconditional (all-zero pixels, as IP-Adapter's recipe); the
        identity's face]. The unconditional half is encoded once: one image-encoder pass
        saved per request (seconds on a CPU)."""
        cond = self.encode_faces([self.identity_crop(image)])
        if self._unconditional is None:
            crop = self._processor().crop_size
            self._unconditional = self._encode(torch.zeros(1, 3, crop["height"], crop["width"]))
        return torch.cat([self._unconditional, cond])

    # --- expression and pose --------------------------------------------------------------

    def semantic_embeds(self, image: np.ndarray | None, dim: int) -> torch.Tensor:
        """(2, 1, dim) float32 on the CPU: [zeros; the reference's semantic vector] (zeros
        without a reference)."""
        vec = np.zeros(dim, np.float32)
        if image is not None:
            vec = semantic_vector(extract_motion(self._face(image, "reference image")))
        cond = torch.from_numpy(vec)[None]
        return torch.cat([torch.zeros_like(cond), cond])[:, None]

    def control_image(self, image: np.ndarray | None, size: int) -> np.ndarray:
        """The ControlNet's landmark drawing of the reference, at the output size (black
        without a reference)."""
        if image is None:
            return np.zeros((size, size, 3), np.uint8)
        face = self._face(image, "reference image")
        h, w = image.shape[:2]
        scale = size / max(h, w)
        xy = face.xy * scale + (np.array([size - w * scale, size - h * scale]) / 2)
        return draw_face_condition((size, size), [xy])
