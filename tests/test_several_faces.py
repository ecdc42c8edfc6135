"""Photos with several faces: choosing the face to drive, or driving them all. Judged per face
with the project's landmarks on two bundled portraits set side by side (``two_faces``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from deepexpo import FaceChoice, MotionOptions
from deepexpo.cli import main
from deepexpo.engines.neural_engine import NeuralEngine
from deepexpo.errors import InputError, NoFaceError
from deepexpo.io.images import read_image, write_image
from deepexpo.io.video import Mp4Writer, probe_video
from deepexpo.motion.controls import ExpressionControls, ExpressionEdit
from deepexpo.pipeline import TransferPipeline
from deepexpo.testing.tiny_liveportrait import tiny_networks

from .conftest import face_window, read_frames

HALF = 240  # two_faces: the astronaut (face 0) left of this column, Hopper (face 1) right of it
ALL = FaceChoice("all")


def halves(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(image[:, :HALF]), np.ascontiguousarray(image[:, HALF:])


def mouths(measure, image: np.ndarray) -> list[float]:
    return [measure.mouth(half) for half in halves(image)]


@pytest.fixture(scope="module")
def files(tmp_path_factory, two_faces, open_mouth_driver) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("several")
    return {"pair": str(write_image(folder / "pair.png", two_faces)),
            "driver": str(write_image(folder / "driver.png", open_mouth_driver))}


def _transfer(files: dict[str, str], output: Path, *options: str) -> int:
    return main(["transfer", "--source", files["pair"], "--driving", files["driver"], "--output",
                 str(output), *options])


def _one_error(capsys) -> str:
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, errors
    return errors[0]


def test_face_choices_parse_and_refuse():
    assert FaceChoice.parse(" All ") == ALL
    assert FaceChoice.parse("2") == FaceChoice(2) and str(FaceChoice(2)) == "2"
    assert FaceChoice() == FaceChoice.parse("largest")
    assert FaceChoice.options(1) == ["largest"]
    assert FaceChoice.options(3) == ["largest", "all", "0", "1", "2"]
    for bad in ("-1", "left", True, 1.5):
        with pytest.raises(InputError, match="a face is 'largest', 'all' or a number from 0"):
            FaceChoice.parse(bad)
    with pytest.raises(InputError, match="the driving face is one face"):
        ALL.single("driving face")


def test_faces_are_numbered_left_to_right(pipeline, two_faces):
    faces = pipeline.find_faces(two_faces)
    assert len(faces) == 2
    assert faces[0].centre[0] < HALF < faces[1].centre[0]


def test_cli_face_all_opens_both_mouths(files, tmp_path, two_faces, measure):
    out = tmp_path / "all.png"
    assert _transfer(files, out, "--face", "all") == 0
    before, after = mouths(measure, two_faces), mouths(measure, read_image(out))
    assert after[0] > before[0] + 0.1 and after[1] > before[1] + 0.1


@pytest.mark.parametrize("index", [0, 1])
def test_cli_one_face_opens_only_its_mouth(files, tmp_path, two_faces, measure, index):
    out = tmp_path / f"face{index}.png"
    assert _transfer(files, out, "--face", str(index)) == 0
    chosen, other = halves(read_image(out))[index], halves(read_image(out))[1 - index]
    assert measure.mouth(chosen) > measure.mouth(halves(two_faces)[index]) + 0.1
    assert np.array_equal(other, halves(two_faces)[1 - index])  # not one pixel moved


def test_unkept_apart_the_left_face_would_move_the_right(pipeline, two_faces, open_mouth_driver):
    """Without its territory, face 0's warp reaches into the right half: the photo is close
    enough for the test above to mean something."""
    engine = pipeline.engine
    driving = engine.extract(open_mouth_driver, pipeline.detect(open_mouth_driver, "driver"))
    source = engine.prepare_source(two_faces, pipeline.find_faces(two_faces)[0])
    out = engine.render(source, driving, engine.neutral_reference(driving), MotionOptions())
    assert not np.array_equal(halves(out)[1], halves(two_faces)[1])


def test_cli_face_errors_are_one_line(files, tmp_path, driving_video, capsys):
    assert _transfer(files, tmp_path / "o.png", "--face", "5") == 2
    assert _one_error(capsys) == ("error: face 5 was asked for, but 2 faces were found in "
                                  "source image (0 to 1, left to right)")
    assert not (tmp_path / "o.png").exists()
    assert _transfer(files, tmp_path / "o.png", "--driving-face", "all") == 2
    assert _one_error(capsys) == "error: the driving face is one face: 'largest' or a number, not 'all'"
    assert _transfer(files, tmp_path / "o.png", "--face", "first") == 2
    assert "a face is 'largest', 'all' or a number" in _one_error(capsys)
    assert main(["edit", "--source", str(driving_video), "--output", str(tmp_path / "o.mp4"),
                 "--face", "1"]) == 2
    assert "--face chooses among a source photo's faces" in _one_error(capsys)


def test_cli_video_driving_all_keeps_frames_and_audio(files, tmp_path, driving_video,
                                                      driving_frames, measure):
    out = tmp_path / "all.mp4"
    assert main(["transfer", "--source", files["pair"], "--driving", str(driving_video),
                 "--output", str(out), "--face", "all"]) == 0
    info = probe_video(out)
    assert info.frame_count == len(driving_frames) and info.has_audio
    frames = read_frames(out)
    closed, opened = mouths(measure, frames[1]), mouths(measure, frames[6])  # driver: 4 closed, 4 open
    assert opened[0] > closed[0] + 0.08 and opened[1] > closed[1] + 0.08


def test_cli_edits_one_face(files, tmp_path, two_faces, measure):
    out = tmp_path / "edited.png"
    assert main(["edit", "--source", files["pair"], "--output", str(out), "--face", "1",
                 "--aaa", "1"]) == 0
    left, right = halves(read_image(out))
    assert np.array_equal(left, halves(two_faces)[0])
    assert measure.mouth(right) > measure.mouth(halves(two_faces)[1]) + 0.04


def test_editing_all_faces(pipeline, two_faces, measure):
    out = pipeline.edit_image(two_faces, ExpressionEdit(ExpressionControls(aaa=1.0)), face=ALL)
    before, after = mouths(measure, two_faces), mouths(measure, out)
    assert after[0] > before[0] + 0.04 and after[1] > before[1] + 0.04


@pytest.fixture(scope="module")
def small_and_tiny(two_faces) -> np.ndarray:
    """The two portraits shrunk: face 0 about 53 px across, face 1 about 27 (too small)."""
    left = cv2.resize(halves(two_faces)[0], None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    right = cv2.resize(halves(two_faces)[1], None, fx=0.18, fy=0.18, interpolation=cv2.INTER_AREA)
    out = np.empty((left.shape[0], left.shape[1] + right.shape[1] + 10, 3), np.uint8)
    out[:] = two_faces[0, -1]
    out[:, :left.shape[1]] = left
    top = (left.shape[0] - right.shape[0]) // 2
    out[top:top + right.shape[0], left.shape[1] + 5:left.shape[1] + 5 + right.shape[1]] = right
    return out


def test_too_small_faces(pipeline, small_and_tiny, open_mouth_driver, caplog):
    assert [round(face.side) < 32 for face in pipeline.find_faces(small_and_tiny)] == [False, True]
    with caplog.at_level("WARNING"):
        out = pipeline.transfer_image(small_and_tiny, open_mouth_driver, face=ALL)
    assert "face 1 in source image is too small to drive" in caplog.text
    tiny = slice(-48, None)  # face 1's portrait and the margins beside it
    assert np.array_equal(out[:, tiny], small_and_tiny[:, tiny])  # left as it was ...
    assert not np.array_equal(out, small_and_tiny)  # ... while face 0 moved
    with pytest.raises(InputError, match=r"face 1 in source image is too small to drive "
                                         r"\(\d+ px across, at least 32\)"):
        pipeline.transfer_image(small_and_tiny, open_mouth_driver, face=FaceChoice(1))
    with pytest.raises(NoFaceError, match="every face in image is too small"):
        pipeline.edit_image(small_and_tiny[:, tiny], ExpressionEdit(), face=ALL)


def test_overlapping_faces_are_said_and_not_torn(pipeline, astronaut, hopper, landmarker,
                                                 open_mouth_driver, measure, caplog):
    """Portraits cut so narrow that the faces nearly touch: they cannot be kept apart."""
    width = 150
    close = np.concatenate([face_window(astronaut, landmarker, width),
                            face_window(hopper, landmarker, width)], axis=1)
    with caplog.at_level("WARNING"):
        out = pipeline.transfer_image(close, open_mouth_driver, face=ALL)
    assert "overlap" in caplog.text and "the smaller, is left as it is" in caplog.text
    before, after = ([measure.mouth(np.ascontiguousarray(image[:, part]))
                      for part in (slice(None, width), slice(width, None))]
                     for image in (close, out))
    opened = [a > b + 0.1 for a, b in zip(after, before, strict=True)]
    assert sorted(opened) == [False, True]  # one face driven, the other left alone
    caplog.clear()
    with caplog.at_level("WARNING"):
        pipeline.transfer_image(close, open_mouth_driver, face=FaceChoice(0))
    assert "face 1 in source image overlaps face 0; driving face 0 may move it too" in caplog.text


@pytest.fixture(scope="module")
def twins(hopper, open_mouth_driver, landmarker) -> dict[str, np.ndarray]:
    """Two-person driving frames: calm Hopper twins, or the left one's mouth open, or only the
    right one (the left out of the picture)."""
    calm = face_window(np.ascontiguousarray(hopper[:, ::-1]), landmarker)
    opened = face_window(open_mouth_driver, landmarker)
    gone = np.empty_like(calm)
    gone[:] = calm[0, 0]
    return {"calm": np.concatenate([calm, calm], axis=1),
            "open": np.concatenate([opened, calm], axis=1),
            "gone": np.concatenate([gone, calm], axis=1)}


def test_the_driving_face_is_chosen(pipeline, measure, hopper, twins):
    opened = pipeline.transfer_image(hopper, twins["open"], driving_face=FaceChoice(0))
    calm = pipeline.transfer_image(hopper, twins["open"], driving_face=FaceChoice(1))
    assert measure.mouth(opened) > measure.mouth(hopper) + 0.1
    assert measure.mouth(calm) < measure.mouth(hopper) + 0.03


def test_a_driving_video_stays_on_the_chosen_person(pipeline, measure, hopper, twins, tmp_path):
    """The left twin opens her mouth, leaves the picture, comes back with it open and closes
    it; the right one stays calm. Driven by the left one, the output's mouth follows her (and
    holds while she is away), never the twin who stayed."""
    phases = ["calm", "open", "gone", "open", "calm"]
    path = tmp_path / "twins.mp4"
    with Mp4Writer(path, 10.0) as writer:
        for phase in phases:
            for _ in range(3):
                writer.write(twins[phase])
    out = pipeline.transfer_video(hopper, path, tmp_path / "out.mp4",
                                  driving_face=FaceChoice(0))
    mouth = [measure.mouth(frame) for frame in read_frames(out)[2::3]]  # each phase's last
    base = measure.mouth(hopper)
    assert all(m > base + 0.08 for m in mouth[1:4]), mouth
    assert mouth[4] < base + 0.05, mouth
    with pytest.raises(InputError, match="face 2 was asked for, but 2 faces were found in the "
                                         "first frame with a face of driving video 'twins.mp4'"):
        pipeline.transfer_video(hopper, path, tmp_path / "o.mp4", driving_face=FaceChoice(2))


def test_neural_engine_pastes_each_face_in_its_own_place(two_faces, open_mouth_driver):
    """Tiny random networks: garbage pixels, but the real crop, drive and paste-back."""
    pipeline = TransferPipeline(NeuralEngine(networks=tiny_networks()))
    one = pipeline.transfer_image(two_faces, open_mouth_driver, face=FaceChoice(0))
    assert np.array_equal(halves(one)[1], halves(two_faces)[1])
    assert not np.array_equal(halves(one)[0], halves(two_faces)[0])
    both = pipeline.transfer_image(two_faces, open_mouth_driver, face=ALL)
    assert not np.array_equal(halves(both)[1], halves(two_faces)[1])
    changed = np.any(one != two_faces, axis=-1)
    assert np.array_equal(both[changed], one[changed])  # face 0 as it is alone, plus face 1
