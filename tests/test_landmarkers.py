"""The landmarker boundary: the pipeline finds faces through whichever landmarker is named, so
another detector (faces placed by hand, say) is one class and one registration."""

from __future__ import annotations

import numpy as np
import pytest

from deepexpo.errors import NoFaceError
from deepexpo.face.landmarks import (
    FaceLandmarks,
    Landmarker,
    create_landmarker,
    register_landmarker,
)
from deepexpo.face.mediapipe_landmarker import MediaPipeLandmarker
from deepexpo.io.video import Mp4Writer
from deepexpo.pipeline import TransferPipeline

from .conftest import FPS, read_frames


class PlacedFaces:
    """A stand-in detector: the faces it was given, wherever they are asked for."""

    def __init__(self, faces: list[FaceLandmarks], tracking: bool):
        self.faces, self.tracking, self.calls = faces, tracking, []

    def detect(self, image: np.ndarray, what: str = "image") -> FaceLandmarks:
        self.calls.append("detect")
        if not self.faces:
            raise NoFaceError(f"no face placed in {what}")
        return self.faces[0]

    def detect_all(self, image: np.ndarray) -> list[FaceLandmarks]:
        self.calls.append("detect_all")
        return list(self.faces)

    def track(self, image: np.ndarray, previous: FaceLandmarks) -> FaceLandmarks | None:
        self.calls.append("track")
        return previous

    def close(self) -> None:
        self.calls.append("close")


def test_mediapipe_is_the_default_landmarker():
    still, tracking = create_landmarker(), create_landmarker(tracking=True)
    try:
        assert isinstance(still, MediaPipeLandmarker) and not still.tracking
        assert isinstance(tracking, MediaPipeLandmarker) and tracking.tracking
    finally:
        still.close()
        tracking.close()
    with pytest.raises(ValueError, match="unknown landmarker 'dlib'"):
        create_landmarker("dlib")


def test_a_registered_landmarker_finds_the_faces_of_photos_and_videos(
        landmarker, hopper, open_mouth_driver, tmp_path):
    made: list[PlacedFaces] = []

    def placed(tracking: bool) -> Landmarker:
        faces = [landmarker.detect(open_mouth_driver if tracking else hopper)]
        made.append(PlacedFaces(faces, tracking))
        return made[-1]

    register_landmarker("placed", placed)
    pipeline = TransferPipeline("warp", landmarker="placed")
    assert pipeline.detect(hopper, "photo") is made[0].faces[0]
    path = tmp_path / "driver.mp4"
    with Mp4Writer(path, FPS) as writer:
        for _ in range(3):
            writer.write(open_mouth_driver)
    frames = read_frames(pipeline.transfer_video(hopper, path, tmp_path / "out.mp4",
                                                 keep_audio=False))
    assert len(frames) == 3
    tracker = next(m for m in made if m.tracking)
    assert tracker.calls == ["detect_all", "track", "track", "close"]
