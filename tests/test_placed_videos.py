"""A source video whose face no detector finds (a cartoon clip), placed by points on its first
frame and followed from there by the picture's motion: the followed face stays on the moving
face, a driver drives it where it is now, and the CLI and the Python API take the points."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import deepexpo
from deepexpo.cli import main
from deepexpo.errors import InputError, NoSourceFaceError
from deepexpo.face.points import FacePoints
from deepexpo.face.selection import FaceChoice
from deepexpo.face.tracking import FaceTracker
from deepexpo.io.video import Mp4Writer, iter_frames, probe_video

from .conftest import read_frames
from .test_placed_faces import drawn_cartoon

FRAMES, FPS = 12, 10.0
BACKGROUND = (150, 190, 230)


def _motion(i: int, centre: tuple[float, float]) -> np.ndarray:
    """Frame ``i``'s similarity (2x3) from the first frame: the face slides right and up,
    grows by a fifth and tilts by up to 8 degrees, and comes part of the way back."""
    t = i / (FRAMES - 1)
    m = cv2.getRotationMatrix2D(centre, 8 * np.sin(np.pi * t), 1 + 0.2 * np.sin(np.pi * t))
    m[:, 2] += (35 * t, -20 * t)
    return m


def _moved(m: np.ndarray, xy: np.ndarray) -> np.ndarray:
    return np.asarray(xy, float) @ m[:, :2].T + m[:, 2]


@pytest.fixture(scope="module")
def cartoon_clip(tmp_path_factory) -> tuple:
    """A drawn cartoon moving over a plain background (no detector finds it), its points on
    the first frame, and each frame's motion."""
    folder = tmp_path_factory.mktemp("placed_video")
    face, points = drawn_cartoon(size=300)
    image = np.full((360, 480, 3), BACKGROUND, np.uint8)
    image[30:330, 60:360] = face
    points = {name: [x + 60, y + 30] for name, (x, y) in points.items()}
    motions = [_motion(i, (210.0, 180.0)) for i in range(FRAMES)]
    path = folder / "cartoon.mp4"
    with Mp4Writer(path, FPS) as writer:
        for m in motions:
            writer.write(cv2.warpAffine(image, m, (480, 360), borderValue=BACKGROUND))
    points_file = folder / "cartoon.json"
    points_file.write_text(json.dumps(points))
    return path, points, points_file, motions


def test_the_face_placed_on_the_first_frame_follows_the_moving_cartoon(cartoon_clip):
    path, points, _, motions = cartoon_clip
    placed = FacePoints.from_json_object(points)
    first = placed.fit((360, 480))
    info = probe_video(path)
    with FaceTracker(FaceChoice(), "cartoon clip", info.fps, "points",
                     {"points": [placed]}) as tracker:
        faces = [tracker(frame) for frame in iter_frames(info)]
    assert len(faces) == FRAMES and all(face is not None and face.placed for face in faces)
    errors = [np.abs(face.xy - _moved(m, first.xy)).max() / first.side
              for face, m in zip(faces, motions, strict=True)]
    # Within 2% of the face's size at every frame (the smoothing's lag included), where the
    # face moves by up to a sixth of its size, turns by 8 degrees and grows by a fifth.
    assert max(errors) < 0.02, np.round(errors, 4)
    assert np.abs(faces[6].xy - first.xy).max() > 0.15 * first.side  # it did move


def test_a_face_lost_for_a_frame_is_found_again_where_it_went(cartoon_clip):
    """A frame without the face (a cut to black) loses it; the next frame with it finds it
    again, moved."""
    from deepexpo.face.landmarks import create_landmarker

    path, points, _, motions = cartoon_clip
    frames = list(iter_frames(probe_video(path)))
    follower = create_landmarker("points", tracking=True,
                                 points=[FacePoints.from_json_object(points)])
    (first,) = follower.detect_all(frames[0])
    assert follower.track(frames[1], first) is not None
    assert follower.track(np.zeros_like(frames[2]), first) is None
    (again,) = follower.detect_all(frames[3])
    error = np.abs(again.xy - _moved(motions[3], first.xy)).max()
    assert error < 0.02 * first.side, error


def test_a_driver_opens_the_moving_cartoons_mouth_where_it_is(cartoon_clip, tmp_path,
                                                              open_mouth_driver):
    """Through the Python API: each frame's mouth opens (dark shows between the lips) at the
    mouth's place in that frame, and nothing changes away from the face."""
    path, points, points_file, motions = cartoon_clip
    driver = tmp_path / "driver.png"
    cv2.imwrite(str(driver), cv2.cvtColor(open_mouth_driver, cv2.COLOR_RGB2BGR))
    out = deepexpo.reenact_video(path, driver, tmp_path / "out.mp4", engine="warp",
                                 audio="none", source_points=str(points_file))
    sources, outputs = read_frames(path), read_frames(out)
    assert len(outputs) == FRAMES
    mouth = np.mean([points["mouth_left"], points["mouth_right"]], axis=0) + (0, 6)
    width = points["mouth_right"][0] - points["mouth_left"][0]
    centre = np.mean([points["face_left"], points["face_right"]], axis=0)
    radius = (points["face_right"][0] - points["face_left"][0]) / 2
    ys, xs = np.mgrid[:360, :480]
    for frame in range(0, FRAMES, 2):
        source, output = sources[frame], outputs[frame]
        x, y = np.round(_moved(motions[frame], mouth)).astype(int)
        box = (slice(y - width // 4, y + width // 4), slice(x - width // 2, x + width // 2))
        opened = np.mean(output[box].mean(axis=2) < 70) - np.mean(source[box].mean(axis=2) < 70)
        assert opened > 0.1, (frame, opened)
        cx, cy = _moved(motions[frame], centre)
        away = np.hypot(xs - cx, ys - cy) > 1.5 * radius * 1.2
        changed = np.abs(output.astype(int) - source).sum(axis=2) > 40
        assert changed[away].mean() < 0.001, frame


def test_cli_reenacts_and_edits_a_source_video_placed_by_points(cartoon_clip, tmp_path,
                                                               open_mouth_driver):
    path, points, points_file, motions = cartoon_clip
    driver = tmp_path / "driver.png"
    cv2.imwrite(str(driver), cv2.cvtColor(open_mouth_driver, cv2.COLOR_RGB2BGR))
    out = tmp_path / "reenacted.mp4"
    assert main(["transfer", "--source", str(path), "--driving", str(driver), "--output",
                 str(out), "--engine", "warp", "--source-points", str(points_file)]) == 0
    assert len(read_frames(out)) == FRAMES
    edited = tmp_path / "edited.mp4"
    assert main(["edit", "--source", str(path), "--output", str(edited), "--engine", "warp",
                 "--blink", "1", "--source-points", str(points_file)]) == 0
    # Both eyes shut in every frame, where they are in that frame: the pupils' dark is gone.
    for source, frame, m in zip(read_frames(path), read_frames(edited), motions, strict=True):
        for side in ("left", "right"):
            x, y = _moved(m, np.mean([points[f"{side}_eye_outer"], points[f"{side}_eye_inner"]],
                                     axis=0))
            box = (slice(int(y) - 8, int(y) + 18), slice(int(x) - 10, int(x) + 10))
            dark = [np.mean(image[box].mean(axis=2) < 70) for image in (source, frame)]
            assert dark[0] > 0.3 and dark[1] < 0.3 * dark[0], (side, dark)


def test_cli_point_errors_for_a_source_video(cartoon_clip, tmp_path, capsys):
    path, points, _, _ = cartoon_clip
    two = tmp_path / "two.json"
    two.write_text(json.dumps([points, points]))
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(points | {"chin": [210, 400]}))
    blank = tmp_path / "blank.mp4"
    with Mp4Writer(blank, FPS) as writer:
        for _ in range(4):
            writer.write(np.full((120, 160, 3), 180, np.uint8))

    def error(source, *extra: str) -> str:
        code = main(["transfer", "--source", str(source), "--driving", str(path), "--output",
                     str(tmp_path / "out.mp4"), "--engine", "warp", *extra])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        return err[0]

    assert error(path, "--source-points", str(two)) == (
        "error: points file 'two.json' places 2 faces; a source video drives one: give its "
        "points on the first frame")
    assert "point chin (210, 400) is outside the 480x360 image" in \
        error(path, "--source-points", str(outside))
    message = error(blank)  # no face in any frame: the message says how to place one
    assert "no face found in any frame of source video 'blank.mp4'" in message
    assert "--source-points FILE.json" in message and '"left_eye_outer": [x, y]' in message
    assert "a video's face placed on its first frame" in message


def test_the_pipeline_refuses_several_faces_and_says_a_source_video_has_no_face(
        cartoon_clip, tmp_path, pipeline):
    path, points, _, _ = cartoon_clip
    placed = [FacePoints.from_json_object(points)] * 2
    with pytest.raises(InputError, match=r"a video drives one face: the face points for source "
                                         r"video 'cartoon.mp4' place 2"):
        pipeline.reenact_video(path, path, tmp_path / "out.mp4", points=placed)
    blank = tmp_path / "blank.mp4"
    with Mp4Writer(blank, FPS) as writer:
        for _ in range(3):
            writer.write(np.full((120, 160, 3), 180, np.uint8))
    with pytest.raises(NoSourceFaceError, match="no face found in any frame of video"):
        pipeline.edit_video(blank, tmp_path / "edited.mp4", deepexpo.ExpressionEdit())
