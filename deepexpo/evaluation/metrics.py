"""The standard reenactment figures for one output frame, against the real frame (self-
reenactment) or against the driver and the source (cross-reenactment).

- ``l1``, ``psnr``, ``ssim``: pixels in [0, 1] on the face crop (the real frame's face box,
  enlarged 1.6x, at 256 px), the same box in both frames.
- ``akd``: mean distance of dlib's 68 landmarks, in inter-ocular units.
- ``aed``: the same after the output's landmarks are aligned to the other's by a similarity on
  rigid points (head pose and size removed): the expression.
- ``apd``: mean absolute difference of yaw, pitch and roll, degrees.
- ``csim``: cosine similarity of the face-recognition embeddings (output and source).
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from .scorer import ScoredFace

KEYS = ("l1", "psnr", "ssim", "akd", "aed", "apd", "csim")
CROP = 256


def face_crop(image: np.ndarray, face: ScoredFace) -> np.ndarray:
    """The face box around ``face``'s landmarks, enlarged 1.6x, as a float crop in [0, 1]."""
    lo, hi = face.points.min(0), face.points.max(0)
    centre, side = (lo + hi) / 2, 1.6 * float((hi - lo).max())
    scale = CROP / side
    matrix = np.array([[scale, 0, CROP / 2 - scale * centre[0]],
                       [0, scale, CROP / 2 - scale * centre[1]]])
    crop = cv2.warpAffine(image, matrix, (CROP, CROP), flags=cv2.INTER_AREA)
    return crop.astype(np.float64) / 255.0


def pixel_scores(output: np.ndarray, real: np.ndarray, real_face: ScoredFace) -> dict[str, float]:
    a, b = face_crop(output, real_face), face_crop(real, real_face)
    return {"l1": float(np.abs(a - b).mean()),
            "psnr": float(peak_signal_noise_ratio(b, a, data_range=1.0)) if not np.array_equal(a, b)
            else float("inf"),
            "ssim": float(structural_similarity(b, a, data_range=1.0, channel_axis=2))}


def shape_scores(output: ScoredFace, target: ScoredFace) -> dict[str, float]:
    """``akd``, ``aed`` and ``apd`` of ``output`` against ``target`` (real frame or driver)."""
    unit = target.interocular
    return {"akd": float(np.linalg.norm(output.points - target.points, axis=1).mean() / unit),
            "aed": float(np.linalg.norm(output.aligned_to(target) - target.points,
                                        axis=1).mean() / unit),
            "apd": float(np.abs(output.pose - target.pose).mean())}


def identity_score(output: ScoredFace, source: ScoredFace) -> dict[str, float]:
    a, b = output.embedding, source.embedding
    return {"csim": float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))}


def mean(rows: list[dict[str, float]], keys: tuple[str, ...] = KEYS) -> dict[str, float]:
    """Each key's mean over the rows that have it (finite values only), ``None`` if none."""
    out = {}
    for key in keys:
        values = [r[key] for r in rows if key in r and np.isfinite(r[key])]
        out[key] = float(np.mean(values)) if values else None
    return out
