"""Shared fixtures: real photos that ship inside packages, and drivers made from them.

Drivers with a known motion (mouth opened, head turned) are rendered from a bundled photo by
the warp engine itself; every assertion is then measured on pixels by the landmark model.
"""

from __future__ import annotations

import os
import struct
import wave
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import matplotlib.cbook
import numpy as np
import pytest
from huggingface_hub import constants
from PIL import Image
from skimage import data

from deepexpo import get_pipeline, hub
from deepexpo.engines.warp_engine import WarpEngine
from deepexpo.face.canonical import canonical_face
from deepexpo.face.measure import mouth_opening
from deepexpo.face.mediapipe_landmarker import MediaPipeLandmarker
from deepexpo.face.topology import TOPOLOGY
from deepexpo.io.video import Mp4Writer, iter_frames, probe_video
from deepexpo.motion.controls import ExpressionControls, apply_controls
from deepexpo.motion.extract import extract_motion
from deepexpo.motion.state import FaceMotion
from deepexpo.pipeline import TransferPipeline

if TYPE_CHECKING:
    from deepexpo.testing.loopback_hub import LoopbackHub

#: Frame rate of the ``driving_video`` fixture.
FPS = 10.0
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

    def features(self, image: np.ndarray) -> dict[str, float]:
        """Expression features in the canonical frame (pose removed), in eye-distance units:
        ``lift`` of the mouth corners above the lips' middle, eye ``opening`` per eye
        (``right``/``left``: the subject's), ``brows`` height above the eyes, ``iris_x``."""
        s = self.motion(image).canonical
        canon = canonical_face()
        middle = np.abs(s[TOPOLOGY.lips, 0]) < 0.05
        eyes = np.r_[TOPOLOGY.right_eye, TOPOLOGY.left_eye]
        return {
            "lift": s[TOPOLOGY.lips][middle, 1].mean() - s[canon.mouth_corners, 1].mean(),
            "mouth": mouth_opening(s),
            "right": np.ptp(s[TOPOLOGY.right_eye, 1]),
            "left": np.ptp(s[TOPOLOGY.left_eye, 1]),
            "brows": s[eyes, 1].mean() - s[TOPOLOGY.brows, 1].mean(),
            "iris_x": s[[TOPOLOGY.right_iris_center, TOPOLOGY.left_iris_center], 0].mean()
            - s[eyes, 0].mean(),
        }


@pytest.fixture(scope="session")
def measure(landmarker) -> Measure:
    return Measure(landmarker)


def pose_face(image: np.ndarray, landmarker: MediaPipeLandmarker, **controls: float) -> np.ndarray:
    """``image`` re-rendered by the warp engine with :class:`ExpressionControls` applied."""
    engine = WarpEngine()
    source = engine.prepare_source(image, landmarker.detect(image))
    return engine.render_motion(source, apply_controls(source.motion, ExpressionControls(**controls)))


@pytest.fixture(scope="session")
def open_mouth_driver(hopper, landmarker) -> np.ndarray:
    """Grace Hopper, mirrored (another photo of a calm face) with her mouth opened."""
    return pose_face(np.ascontiguousarray(hopper[:, ::-1]), landmarker, aaa=0.75)


@pytest.fixture(scope="session")
def turned_driver(astronaut, landmarker) -> np.ndarray:
    """The astronaut with her head turned towards the image's left (her right: positive yaw,
    :class:`~deepexpo.motion.state.HeadPose`'s convention)."""
    return pose_face(astronaut, landmarker, yaw=22.0)


def face_window(image: np.ndarray, landmarker: MediaPipeLandmarker, width: int = 240,
                height: int = 320) -> np.ndarray:
    """``image`` cut close around its face (2.1 face sizes high) and scaled to ``width`` x
    ``height``: a portrait to set beside another."""
    face = landmarker.detect(image)
    scale = height / (2.1 * face.side)
    shift = np.array([width, height]) / 2 - scale * face.centre
    to_window = np.array([[scale, 0.0, shift[0]], [0.0, scale, shift[1]]])
    return cv2.warpAffine(image, to_window, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="session")
def two_faces(astronaut, hopper, landmarker) -> np.ndarray:
    """The astronaut (face 0) and Hopper (face 1) side by side, each portrait 240 x 320 and cut
    close around her face: so close that one face's warp, unchecked, reaches the other half."""
    return np.concatenate([face_window(astronaut, landmarker), face_window(hopper, landmarker)],
                          axis=1)


@pytest.fixture(scope="session")
def driving_frames(hopper, open_mouth_driver) -> list[np.ndarray]:
    """Mouth closed, then open, then closed: 12 frames."""
    calm = np.ascontiguousarray(hopper[:, ::-1])
    return [calm] * 4 + [open_mouth_driver] * 4 + [calm] * 4


@pytest.fixture(scope="session")
def tone(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    t = np.arange(int(16000 * 1.2)) / 16000
    samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(samples.tobytes())
    return path


@pytest.fixture(scope="session")
def driving_video(tmp_path_factory, driving_frames, tone) -> Path:
    """12 frames at 10 fps with a tone: mouth closed, open, closed."""
    path = tmp_path_factory.mktemp("video") / "driving.mp4"
    with Mp4Writer(path, FPS, audio_from=tone) as writer:
        for frame in driving_frames:
            writer.write(frame)
    return path


def read_frames(path: Path) -> list[np.ndarray]:
    """Every frame of a video file, RGB."""
    return list(iter_frames(probe_video(path)))


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares ``width`` x ``height`` pixels and holds none: what a decompression
    bomb looks like to a reader that trusts the header."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


def shared_sample(relative: str) -> Path:
    path = SHARED / "samples" / relative
    if not path.exists():
        pytest.skip(f"../shared/samples/{relative} is not present")
    return path


def driving_clip_frames(name: str, *indices: int) -> list[np.ndarray]:
    """Frames ``indices`` of the shared driving clip ``name`` (``d3``), in that order, read
    up to the last of them."""
    wanted = set(indices)
    frames = {i: frame for i, frame in zip(range(max(indices) + 1), iter_frames(
        probe_video(shared_sample(f"driving/{name}.mp4")))) if i in wanted}
    return [frames[i] for i in indices]


#: Settings of the machine that would let a test see downloaded models or reach a Hub.
_MODEL_SETTINGS = ("HF_ENDPOINT", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                   "SPACE_ID")


@pytest.fixture(autouse=True)
def isolated_models(monkeypatch, tmp_path_factory) -> None:
    """Every test starts with no downloaded model (an empty Hugging Face cache and weights
    folder) and none of the ``DEEPEXPO_*`` model settings of the machine it runs on."""
    for name in list(os.environ):
        model_setting = name.startswith("DEEPEXPO_") and name.endswith(
            ("_REPO", "_REVISION", "_WEIGHTS", "_CONFIG", "_PRECISION", "_AUTO_DOWNLOAD"))
        if model_setting or name in _MODEL_SETTINGS:
            monkeypatch.delenv(name)
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("HF_HOME", str(base / "hf-home-empty"))
    monkeypatch.setenv("DEEPEXPO_WEIGHTS_DIR", str(base / "weights-empty"))
    # The neural engine in PyTorch: exporting to a CPU runtime is the dedicated tests' work
    # (tests/test_neural_cpu_runtime.py), not every engine's.
    monkeypatch.setenv("DEEPEXPO_NEURAL_RUNTIME", "torch")


@pytest.fixture(scope="session")
def hub_repos(tmp_path_factory) -> tuple[dict[str, Path], Path]:
    """Each model's repository folder, and the tiny networks' ``models.yaml``."""
    from .hub_repos import REPO_BUILDERS

    root = tmp_path_factory.mktemp("hub-repos")
    folders = {name: root / name / "repo" for name in REPO_BUILDERS}
    built = {}
    for name, build in REPO_BUILDERS.items():
        folders[name].mkdir(parents=True)
        built[name] = build(folders[name])
    return folders, built["neural"]


@pytest.fixture
def loopback(hub_repos, monkeypatch, tmp_path) -> Iterator[LoopbackHub]:
    """The loopback Hub with every model's repository, an empty cache, short timeouts."""
    from deepexpo.testing.loopback_hub import LoopbackHub, LoopbackServer

    folders, config = hub_repos
    state = LoopbackHub()
    for name, folder in folders.items():
        state.add_repo(hub.MODELS[name].repo_id, folder)
    monkeypatch.setattr(constants, "HF_HUB_DOWNLOAD_TIMEOUT", 1)
    monkeypatch.setattr(constants, "HF_HUB_ETAG_TIMEOUT", 1)
    monkeypatch.setattr(hub, "_failures", {})
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("DEEPEXPO_NEURAL_CONFIG", str(config))
    get_pipeline.cache_clear()
    with LoopbackServer(state) as served:
        monkeypatch.setenv("HF_ENDPOINT", served.url)
        yield served
    get_pipeline.cache_clear()


@pytest.fixture(scope="module")
def pipeline() -> TransferPipeline:
    """The warp engine's pipeline, one per test module."""
    return TransferPipeline("warp")


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> str:
    """The tiny random-weight LivePortrait networks as one ``.safetensors`` file."""
    from deepexpo.testing.tiny_liveportrait import tiny_networks

    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    tiny_networks().save_safetensors(path)
    return str(path)
