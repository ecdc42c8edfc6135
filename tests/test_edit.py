"""Expression editing: named controls, emotion presets and speech-preserving video editing,
measured with the project's own landmarks on bundled photos."""

from __future__ import annotations

import numpy as np
import pytest

from deepexpo.errors import InputError, NoFaceError
from deepexpo.io.video import Mp4Writer, probe_video
from deepexpo.motion.compose import MotionOptions
from deepexpo.motion.controls import EMOTIONS, ExpressionControls, ExpressionEdit

from .conftest import pose_face, read_frames, shared_sample


def _edited(pipeline, image, keep_source: float = 1.0, **controls: float) -> np.ndarray:
    return pipeline.edit_image(image, ExpressionEdit(ExpressionControls(**controls), keep_source))


@pytest.fixture(scope="module", params=["astronaut", "hopper"])
def face(request) -> np.ndarray:
    return request.getfixturevalue(request.param)


def test_zero_controls_leave_the_image_unchanged(pipeline, face):
    assert np.array_equal(pipeline.edit_image(face, ExpressionEdit()), face)
    assert np.array_equal(pipeline.edit_image(face, ExpressionEdit.emotion("happy", 0.0)), face)


def test_smile_raises_the_mouth_corners(pipeline, measure, face):
    before = measure.features(face)["lift"]
    assert measure.features(_edited(pipeline, face, smile=1.0))["lift"] > before + 0.025
    assert measure.features(_edited(pipeline, face, smile=-1.0))["lift"] < before - 0.025


def test_blink_closes_the_eyes_and_wink_one_eye(pipeline, measure, face):
    before = measure.features(face)
    blink = measure.features(_edited(pipeline, face, blink=1.0))
    wink = measure.features(_edited(pipeline, face, wink=1.0))
    for side in ("right", "left"):
        assert blink[side] < 0.8 * before[side]
    assert wink["left"] < 0.8 * before["left"]
    assert wink["right"] > 0.9 * before["right"]


def test_mouth_shapes(pipeline, measure, face):
    before = measure.features(face)["mouth"]
    assert measure.features(_edited(pipeline, face, aaa=1.0))["mouth"] > before + 0.04
    assert measure.features(_edited(pipeline, face, woo=1.0))["mouth"] > before + 0.04


def test_brows_and_gaze(pipeline, measure, astronaut):
    before = measure.features(astronaut)
    assert measure.features(_edited(pipeline, astronaut, eyebrow_raise=1.0))["brows"] > before["brows"] + 0.02
    assert measure.features(_edited(pipeline, astronaut, eyebrow_frown=1.0))["brows"] < before["brows"] - 0.01
    assert measure.features(_edited(pipeline, astronaut, pupil_x=1.0))["iris_x"] > before["iris_x"] + 0.005
    assert measure.features(_edited(pipeline, astronaut, pupil_x=-1.0))["iris_x"] < before["iris_x"] - 0.005


def test_yaw_turns_the_head_with_the_right_sign(pipeline, measure, face):
    before = measure.yaw(face)
    assert measure.yaw(_edited(pipeline, face, yaw=20.0)) > before + 3.0
    assert measure.yaw(_edited(pipeline, face, yaw=-20.0)) < before - 3.0


def test_controls_are_continuous(pipeline, measure, hopper):
    lifts = [measure.features(_edited(pipeline, hopper, smile=k))["lift"] for k in (0.0, 0.5, 1.0)]
    assert lifts[0] < lifts[1] < lifts[2]


# Each emotion's expected direction, on top of the source's own expression (keep_source=1),
# on the astronaut: her brows are clear of glasses (Hopper's frames hide hers from the landmarks).
EMOTION_DIRECTIONS = {
    "happy": lambda d: d["lift"] > 0.02,
    "sad": lambda d: d["lift"] < -0.02 and d["right"] < 0.0,
    "surprised": lambda d: d["brows"] > 0.01 and d["right"] > 0.0 and d["left"] > 0.0,
    "fearful": lambda d: d["brows"] > 0.01 and d["right"] > 0.0 and d["left"] > 0.0,
    "angry": lambda d: d["brows"] < -0.01 and d["right"] < 0.0 and d["lift"] < 0.0,
    "disgusted": lambda d: d["lift"] < -0.01 and d["right"] < 0.0 and d["left"] < 0.0,
}


def _change(pipeline, measure, image, edit: ExpressionEdit) -> dict[str, float]:
    before = measure.features(image)
    after = measure.features(pipeline.edit_image(image, edit))
    return {k: after[k] - before[k] for k in before}


@pytest.mark.parametrize("emotion", list(EMOTION_DIRECTIONS))
def test_emotions_move_the_features_their_way(pipeline, measure, astronaut, emotion):
    change = _change(pipeline, measure, astronaut, ExpressionEdit.emotion(emotion, 1.0, 1.0))
    assert EMOTION_DIRECTIONS[emotion](change), change


def test_surprise_opens_a_closed_mouth_and_raises_the_brows(pipeline, measure, hopper):
    change = _change(pipeline, measure, hopper, ExpressionEdit.emotion("surprised", 1.0, 1.0))
    assert change["mouth"] > 0.1 and change["brows"] > 0.02, change


def test_emotion_replaces_the_source_expression(pipeline, measure, astronaut):
    """By default an emotion replaces the source's own: the astronaut's broad smile turns
    down under 'sad', and 'happy' keeps the corners highest. (Under 'neutral' her corners stay
    about where they are: they rise over her lips' middle no higher than the canonical face's,
    0.001 lower in the motion, which MediaPipe reads within 0.002 either way.)"""
    lift = {name: measure.features(pipeline.edit_image(astronaut, ExpressionEdit.emotion(name)))["lift"]
            for name in ("neutral", "sad", "happy")}
    before = measure.features(astronaut)["lift"]
    assert lift["sad"] < min(lift["neutral"], before) - 0.03
    assert lift["happy"] > max(lift["neutral"], before) + 0.03


def test_every_emotion_is_a_preset():
    assert set(EMOTIONS) == {"neutral", "happy", "sad", "surprised", "fearful", "angry", "disgusted"}
    with pytest.raises(ValueError, match="emotion must be one of"):
        ExpressionEdit.emotion("bored")
    with pytest.raises(ValueError, match="keep_source"):
        ExpressionEdit(keep_source=1.5)


@pytest.fixture(scope="module")
def talking_video(tmp_path_factory, hopper, landmarker, tone):
    """Hopper 'talking': her mouth opens and closes over 12 frames, with a tone."""
    openings = [0.0, 0.5, 1.0, 0.6, 0.1, 0.0, 0.8, 0.3, 0.0, 0.9, 0.4, 0.0]
    path = tmp_path_factory.mktemp("talking") / "talking.mp4"
    with Mp4Writer(path, 10.0, audio_from=tone) as writer:
        for k in openings:
            writer.write(pose_face(hopper, landmarker, aaa=k))
    return path


def test_video_edit_changes_the_emotion_and_keeps_the_speech(pipeline, measure, talking_video,
                                                            tmp_path):
    out = pipeline.edit_video(talking_video, tmp_path / "happy.mp4", ExpressionEdit.emotion("happy"))
    info = probe_video(out)
    assert info.has_audio and info.frame_count == 12
    source = [measure.features(f) for f in read_frames(talking_video)]
    edited = [measure.features(f) for f in read_frames(out)]
    src_mouth = np.array([f["mouth"] for f in source])
    out_mouth = np.array([f["mouth"] for f in edited])
    assert np.corrcoef(src_mouth, out_mouth)[0, 1] > 0.9  # the lips still say the same thing
    assert np.abs(out_mouth - src_mouth).mean() < 0.05
    lift_change = np.array([e["lift"] - s["lift"] for s, e in zip(source, edited, strict=True)])
    assert (lift_change > 0.02).mean() > 0.8  # and smile while they do


def test_video_edit_without_a_face(pipeline, tmp_path):
    path = tmp_path / "empty.mp4"
    with Mp4Writer(path, 10.0) as writer:
        for _ in range(4):
            writer.write(np.full((64, 64, 3), 128, np.uint8))
    with pytest.raises(NoFaceError, match="no face found in any frame"):
        pipeline.edit_video(path, tmp_path / "out.mp4", ExpressionEdit.emotion("sad"))


def test_edit_on_shared_samples(pipeline, measure):
    from deepexpo.io.images import read_image

    image = read_image(shared_sample("sources/s12.jpg"))
    before = measure.features(image)["lift"]
    out = pipeline.edit_image(image, ExpressionEdit.emotion("happy", 1.0, 1.0))
    assert out.shape == image.shape
    assert measure.features(out)["lift"] > before + 0.02


def test_video_edit_follows_a_reference_clip_and_keeps_the_speech(pipeline, measure, talking_video,
                                                                 astronaut, landmarker, tmp_path):
    """The reference (the astronaut) smiles more and more and opens her mouth; the edited Hopper
    smiles along, but her lips keep their own opening."""
    reference = tmp_path / "reference.mp4"
    smiles = np.linspace(0.0, 1.0, 12)
    with Mp4Writer(reference, 10.0) as writer:
        for k in smiles:
            writer.write(pose_face(astronaut, landmarker, smile=-0.5 + k, aaa=0.8 * k))
    out = pipeline.edit_video(talking_video, tmp_path / "out.mp4", ExpressionEdit(),
                              reference=reference)
    source = [measure.features(f) for f in read_frames(talking_video)]
    edited = [measure.features(f) for f in read_frames(out)]
    lift = np.array([e["lift"] - s["lift"] for s, e in zip(source, edited, strict=True)])
    assert np.corrcoef(smiles, lift)[0, 1] > 0.8  # the smile follows the reference
    src_mouth = np.array([f["mouth"] for f in source])
    out_mouth = np.array([f["mouth"] for f in edited])
    assert np.corrcoef(src_mouth, out_mouth)[0, 1] > 0.9  # the speech does not
    assert np.abs(out_mouth - src_mouth).mean() < 0.05


def test_reference_clip_without_a_face_is_refused(pipeline, talking_video, tmp_path):
    blank = tmp_path / "blank.mp4"
    with Mp4Writer(blank, 10.0) as writer:
        for _ in range(3):
            writer.write(np.full((64, 64, 3), 90, np.uint8))
    with pytest.raises(NoFaceError, match="reference video"):
        pipeline.edit_video(talking_video, tmp_path / "out.mp4", ExpressionEdit(), reference=blank)
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("make", [
    lambda: ExpressionControls(yaw=float("inf")),
    lambda: ExpressionControls(smile=float("nan")),
    lambda: ExpressionControls(pitch=120.0),
    lambda: ExpressionControls(blink="1"),
    lambda: ExpressionEdit(keep_source=float("nan")),
    lambda: ExpressionEdit.emotion("happy", float("inf")),
    lambda: MotionOptions(strength=float("nan")),
    lambda: MotionOptions(strength=float("-inf")),
])
def test_the_api_refuses_numbers_that_are_not_finite_or_in_range(make):
    """The same checks as the command line's and the app's: they build these objects."""
    with pytest.raises(InputError, match="must be"):
        make()


def test_exaggerated_but_finite_controls_are_still_allowed():
    assert ExpressionControls(smile=2.5, yaw=45.0).yaw == 45.0
    assert ExpressionEdit.emotion("sad", 2.0, extra=ExpressionControls(smile=-3.0))
