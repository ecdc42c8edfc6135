"""Build ``deepexpo/face/data/canonical_face.npz``: the neutral, frontal, symmetric mean face.

The canonical face defines the frame in which head pose and expression are separated. It is
made from the real photos that ship inside scikit-image and matplotlib, so anyone can rebuild
it offline:

    python scripts/build_canonical_face.py

Steps: detect landmarks; put each face in a rough frontal frame from its eye and chin
landmarks; find each point's mirror partner; average mirror-symmetrised, Procrustes-aligned
faces; close the mouth (a neutral face has its lips together); pitch it so that the photos come out
frontal; scale so that the outer eye
corners are one unit apart.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.cbook
import numpy as np
from scipy.optimize import linear_sum_assignment
from skimage import data

from deepexpo.face.canonical import CanonicalFace
from deepexpo.face.mediapipe_landmarker import MediaPipeLandmarker
from deepexpo.face.topology import TOPOLOGY
from deepexpo.motion.rigid import (
    euler_to_rotation,
    fit_similarity,
    robust_fit_similarity,
    rotation_to_euler,
)

OUT = Path(__file__).resolve().parents[1] / "deepexpo" / "face" / "data" / "canonical_face.npz"
RIGHT_EYE_OUTER, LEFT_EYE_OUTER, FOREHEAD, CHIN = 33, 263, 10, 152
FLIP = np.array([-1.0, 1.0, 1.0])


def _photos() -> list[np.ndarray]:
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = np.asarray(Image.open(f).convert("RGB"))
    return [data.astronaut(), hopper]


def _rough_frame(p: np.ndarray) -> np.ndarray:
    x = p[LEFT_EYE_OUTER] - p[RIGHT_EYE_OUTER]
    x /= np.linalg.norm(x)
    y = p[CHIN] - p[FOREHEAD]
    y -= x * (x @ y)
    y /= np.linalg.norm(y)
    frame = np.stack([x, y, np.cross(x, y)])
    q = (p - p.mean(axis=0)) @ frame.T
    return q / np.linalg.norm(q[LEFT_EYE_OUTER] - q[RIGHT_EYE_OUTER])


def _mirror_index(q: np.ndarray) -> np.ndarray:
    flipped = q * FLIP
    dist = np.linalg.norm(flipped[:, None, :] - q[None, :, :], axis=2)
    return linear_sum_assignment(dist)[1]  # a one-to-one pairing, not a greedy nearest point


def _face_camera(
    template: np.ndarray,
    mirror: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    photos: list[np.ndarray],
) -> np.ndarray:
    """Pitch the template so that the (near-frontal) photos it was built from come out at zero
    pitch on average: "frontal" means what a portrait photo looks like to the landmark model."""
    weights = CanonicalFace(template, mirror, upper, lower).rigid_weights
    pitches = []
    for points in photos:
        rot = robust_fit_similarity(template, points, weights)[1]
        pitches.append(rotation_to_euler(rot)[0])
    return template @ euler_to_rotation(float(np.mean(pitches)), 0.0, 0.0).T


def _inner_lip_pairs(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower inner-lip points, paired left to right (corners excluded). Found here,
    while the photos' lips are still apart, because a closed mouth cannot tell them apart."""
    _, inner = TOPOLOGY.lip_loops(q)
    x, y = q[inner, 0], q[inner, 1]
    mid_y = y[[np.argmin(x), np.argmax(x)]].mean()
    between = (x > x.min()) & (x < x.max())
    upper, lower = inner[between & (y < mid_y)], inner[between & (y > mid_y)]
    return upper[np.argsort(q[upper, 0])], lower[np.argsort(q[lower, 0])]


def _close_mouth(q: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Move the inner lips (and the lower lip with them) so that upper and lower meet."""
    gap = q[lower, 1] - q[upper, 1]
    out = q.copy()
    out[upper, 1] += gap / 2
    out[lower, 1] -= gap / 2
    outer_lower = np.setdiff1d(TOPOLOGY.lips, np.r_[upper, lower])
    outer_lower = outer_lower[q[outer_lower, 1] > q[lower, 1].min()]
    out[outer_lower, 1] -= np.median(gap) / 2
    return out


def main() -> None:
    landmarker = MediaPipeLandmarker()
    photos = [landmarker.detect(img).points for img in _photos()]
    faces = [_rough_frame(p) for p in photos]
    mirror = _mirror_index(faces[0])
    template = faces[0]
    for _ in range(3):
        aligned = []
        for q in faces:
            s, rot, t = fit_similarity(q, template)
            q = s * q @ rot.T + t
            aligned += [q, q[mirror] * FLIP]
        template = np.mean(aligned, axis=0)
    upper, lower = _inner_lip_pairs(template)
    template = _close_mouth(template, upper, lower)
    template = _face_camera(template, mirror, upper, lower, photos)
    template -= template.mean(axis=0)
    template /= np.linalg.norm(template[LEFT_EYE_OUTER] - template[RIGHT_EYE_OUTER])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        points=template.astype(np.float32),
        mirror=mirror.astype(np.int16),
        inner_lip_upper=upper.astype(np.int16),
        inner_lip_lower=lower.astype(np.int16),
    )
    asym = np.abs(template - template[mirror] * FLIP).max()
    print(f"wrote {OUT} (mirror involution: {np.mean(mirror[mirror] == np.arange(len(mirror))):.3f}, "
          f"max asymmetry {asym:.2e})")


if __name__ == "__main__":
    main()
