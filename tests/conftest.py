"""Shared fixtures: real photos that ship inside packages, and drivers made from them.

Drivers with a known motion (mouth opened, head turned) are rendered from a bundled photo by
the warp engine itself; every assertion is then measured on pixels by the landmark model.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image
from skimage import data

from deepexpo.engines.warp_engine import WarpEngine
from deepexpo.face.canonical import canonical_face
from deepexpo.face.landmarks import MediaPipeLandmarker
from deepexpo.motion.extract import extract_motion
from deepexpo.motion.rigid import euler_to_rotation
from deepexpo.motion.state import FaceMotion, HeadPose
from deepexpo.render.mouth import mouth_opening

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="session")
def hopper() -> np.ndarray:
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


@pytest.fixture(scope="session")
def landmarker() -> MediaPipeLandmarker:
    return MediaPipeLandmarker()


class Measure:
    """What a user would see, measured with the project's own landmark model."""

    def __init__(self, landmarker: MediaPipeLandmarker):
        self.landmarker = landmarker

    def motion(self, image: np.ndarray) -> FaceMotion:
        return extract_motion(self.landmarker.detect(image))

    def mouth(self, image: np.ndarray) -> float:
        return mouth_opening(self.landmarker.detect(image).points)

    def yaw(self, image: np.ndarray) -> float:
        return self.motion(image).pose.euler[1]

    def pitch(self, image: np.ndarray) -> float:
        return self.motion(image).pose.euler[0]


@pytest.fixture(scope="session")
def measure(landmarker) -> Measure:
    return Measure(landmarker)


def pose_face(image: np.ndarray, landmarker: MediaPipeLandmarker, *, jaw: float = 0.0,
              yaw: float = 0.0) -> np.ndarray:
    """``image`` re-rendered with the jaw dropped by ``jaw`` canonical units and the head
    turned by ``yaw`` degrees."""
    engine = WarpEngine()
    source = engine.prepare_source(image, landmarker.detect(image))
    canon = canonical_face()
    m = source.motion
    drop = np.zeros_like(m.shape)
    lower = np.zeros(len(m.shape), bool)
    lower[canon.lower_lip] = True
    weight = np.maximum(canon.jaw_weights, lower.astype(float))
    drop[:, 1] = jaw * weight
    pose = HeadPose(euler_to_rotation(0.0, yaw, 0.0) @ m.pose.rotation, m.pose.translation,
                    m.pose.scale)
    target = FaceMotion(pose, m.shape + drop, m.expression + drop, m.image_size)
    return engine.render_motion(source, target)


@pytest.fixture(scope="session")
def open_mouth_driver(hopper, landmarker) -> np.ndarray:
    """Grace Hopper, mirrored (another photo of a calm face) with her mouth opened."""
    return pose_face(np.ascontiguousarray(hopper[:, ::-1]), landmarker, jaw=0.15)


@pytest.fixture(scope="session")
def turned_driver(astronaut, landmarker) -> np.ndarray:
    """The astronaut with her head turned towards the image's right."""
    return pose_face(astronaut, landmarker, yaw=22.0)


def shared_sample(relative: str) -> Path:
    path = SHARED / "samples" / relative
    if not path.exists():
        pytest.skip(f"../shared/samples/{relative} is not present")
    return path
