"""The app's points tool (``ui/points_draft.py``, ``ui/points_tool.py``) and the runs that take
its points: placing, picking up, moving and undoing points, the guide and its diagram, the
preview with the fitted mesh, several faces, Detect, Save and restore, a transfer and an edit of
a dog no detector finds, and a source video's face placed on its first frame. The browser test
clicks the same tool in Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest

from deepexpo import ExpressionControls
from deepexpo.face.points import (
    ESTIMABLE,
    KEY_POINTS,
    POINT_HELP,
    POINT_NAMES,
    REQUIRED,
    FacePoints,
    PointsError,
    estimate_missing,
)
from deepexpo.io.images import read_image, write_image
from deepexpo.ui.handlers import Handlers, source_points
from deepexpo.ui.points_draft import PREVIEW_SIDE, PointsDraft, PreviewPhoto, preview_scale
from deepexpo.ui.points_tool import PointsTool
from deepexpo.ui.storage import AppStorage

from .conftest import shared_sample
from .placed_faces import PLACED

DOG = {name: PLACED["s30.jpg"][name] for name in REQUIRED}
DOG_SIZE = (256, 256)


@pytest.fixture(scope="module")
def storage():
    storage = AppStorage()
    yield storage
    storage.remove()


def _placed(points: dict[str, list[float]] = DOG) -> PointsDraft:
    """``points`` placed as a user does: the key ones clicked in the order the guide asks for
    them, then each other one chosen from the list and clicked (the full 18-point path)."""
    draft = PointsDraft()
    for name in KEY_POINTS:
        if name in points:
            assert draft.target == name
            draft = draft.click(tuple(points[name]), DOG_SIZE)
    for name in points:
        if name not in KEY_POINTS:
            draft = draft.choose(name).click(tuple(points[name]), DOG_SIZE)
    return draft


def _first(n: int) -> dict[str, list[float]]:
    """The dog's first ``n`` key points."""
    return {name: DOG[name] for name in KEY_POINTS[:n]}


def _clicked(tool: PointsTool, photo: str, draft: PointsDraft, xy: tuple[float, float]):
    """A click on the tool's preview at photo pixels ``xy``, as Gradio reports it."""
    scale = preview_scale(read_image(photo).shape[:2])
    event = SimpleNamespace(index=[round(xy[0] * scale), round(xy[1] * scale)])
    return tool.click(photo, draft, event)


def test_a_dozen_clicks_place_the_face_and_the_rest_are_estimated_to_move():
    """The key points clicked in the guide's order complete the face: the eyes' bottoms and
    the brows are estimated, drawn yellow, follow the key points until moved by hand, and are
    then ordinary points; Undo takes the estimates back with the click that made them."""
    draft = PointsDraft()
    assert draft.target == KEY_POINTS[0] == POINT_NAMES[0] and "0 of 12" in draft.guide()
    eleven = _placed(_first(11))
    assert not eleven.complete and not eleven.estimated and eleven.target == "chin"
    draft = _placed(_first(12))
    keys = {name: tuple(DOG[name]) for name in KEY_POINTS}
    assert draft.complete and draft.estimated == set(ESTIMABLE) and len(draft.history) == 12
    assert draft.points == {**keys, **estimate_missing(keys)}
    assert "12 of 12 points placed; 6 estimated" in draft.guide()
    assert draft.target == "face_left"  # the optional ones last
    assert draft.undo().points == eleven.points and not draft.undo().estimated
    assert source_points(draft)[0].to_json_object() == \
        {name: list(xy) for name, xy in draft.points.items()}  # all saved, as placed
    # The left eye's top moved up: its estimated bottom and brow follow it.
    top = keys["left_eye_top"]
    raised = draft.click(top, DOG_SIZE).click((top[0], top[1] - 4), DOG_SIZE)
    assert raised.points["left_eye_bottom"][1] == pytest.approx(
        draft.points["left_eye_bottom"][1] + 4, abs=0.6)
    assert raised.points["left_brow_inner"][1] < draft.points["left_brow_inner"][1] - 3
    assert raised.points["right_eye_bottom"] == draft.points["right_eye_bottom"]
    # The estimated bottom moved by hand stays where it is put; the rest still follow.
    bottom = raised.points["left_eye_bottom"]
    held = raised.click(bottom, DOG_SIZE).click((bottom[0], bottom[1] + 3), DOG_SIZE)
    assert held.estimated == set(ESTIMABLE) - {"left_eye_bottom"}
    lowered = held.click(raised.points["left_eye_top"], DOG_SIZE).click(top, DOG_SIZE)
    assert lowered.points["left_eye_bottom"] == held.points["left_eye_bottom"]
    assert lowered.points["left_brow_inner"] == draft.points["left_brow_inner"]
    # The preview shows the estimates in yellow.
    dog = PreviewPhoto.of(read_image(shared_sample("sources/s30.jpg")))

    def yellow(image: np.ndarray) -> int:
        return int(((image[..., 0] > 230) & (image[..., 1] > 190) & (image[..., 2] < 40)).sum())

    assert yellow(draft.preview(dog)[0]) > 6 * 20 and yellow(eleven.preview(dog)[0]) == 0
    # Key points that give no estimate (an eye's top below its corners) say so.
    low = dict(_first(12), left_eye_top=[97, 118])
    stuck = _placed(low)
    assert not stuck.complete and stuck.target == "left_eye_bottom"
    assert "left_eye_top must be above the line" in stuck.preview(dog)[1]
    with pytest.raises(PointsError, match="left_eye_top must be above"):
        source_points(stuck)


def test_clicks_place_the_points_in_order_and_pick_up_and_move_them():
    draft = PointsDraft()
    draft = _placed()  # all 18 placed by hand
    assert draft.complete and set(draft.points) == set(REQUIRED) and not draft.estimated
    assert draft.points == {name: tuple(xy) for name, xy in DOG.items()}
    assert draft.target == "face_left" and "optional" in draft.guide()  # the optional ones last
    chin = DOG["chin"]
    picked = draft.click((chin[0] + 2, chin[1] - 2), DOG_SIZE)  # near it: picked up
    assert picked.points == draft.points and picked.target == "chin"
    assert picked.guide().startswith("**Moving: `chin`**")
    moved = picked.click((chin[0], chin[1] + 12), DOG_SIZE)
    assert moved.points["chin"] == (chin[0], chin[1] + 12) and moved.chosen is None
    assert moved.undo().points == draft.points
    chosen = draft.choose("nose_tip").click((130, 160), DOG_SIZE)  # chosen from the list
    assert chosen.points["nose_tip"] == (130, 160)
    assert PointsDraft().undo() == PointsDraft()


def test_incomplete_points_are_a_one_line_error_and_none_means_detect():
    assert source_points(PointsDraft()) == () and source_points(None) == ()
    with pytest.raises(PointsError, match=r"^face points: 7 of the 12 points are not placed "
                                          r"yet \(next: right_eye_outer\)[^\n]*$"):
        source_points(_placed(_first(5)))
    (face,) = source_points(_placed())
    assert face.to_json_object() == {name: [float(x), float(y)] for name, (x, y) in DOG.items()}


def test_the_diagram_marks_the_next_point():
    """A red ringed dot where the next point goes on the drawn face: at the image's left for
    ``left_eye_outer``, at the bottom for ``chin``."""
    def red(image: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero((image[..., 0] > 200) & (image[..., 1] < 90) & (image[..., 2] < 90))
        return np.array([xs.mean(), ys.mean()])

    first = PointsDraft().diagram()
    chin = PointsDraft().choose("chin").diagram()
    h, w = first.shape[:2]
    assert red(first)[0] < 0.4 * w and 0.2 * h < red(first)[1] < 0.5 * h
    assert abs(red(chin)[0] - w / 2) < 0.1 * w and red(chin)[1] > 0.8 * h
    assert set(POINT_HELP) == set(POINT_NAMES)  # every point has its line in the guide


def test_the_preview_shows_the_points_then_the_fitted_mesh():
    dog = PreviewPhoto.of(read_image(shared_sample("sources/s30.jpg")))
    dots, problem = _placed(_first(6)).preview(dog)
    assert problem is None and dots.shape == (PREVIEW_SIDE, PREVIEW_SIDE, 3)
    meshed, problem = _placed().preview(dog)
    assert problem is None
    plain, _ = PointsDraft().preview(dog)
    # The mesh's lines lighten the face (the eyes' and nose's dark fur most), not the floor.
    face = (slice(300, 600), slice(250, 500))
    assert (meshed[face].astype(float) - plain[face]).mean() > 3
    assert np.array_equal(meshed[:150, :100], plain[:150, :100])
    swapped = dict(DOG, left_eye_outer=DOG["right_eye_outer"], right_eye_outer=DOG["left_eye_outer"])
    _, problem = PointsDraft({k: tuple(v) for k, v in swapped.items()}).preview(dog)
    assert problem and "\n" not in problem  # said in the guide, in a line


def test_tool_clicks_detect_save_and_restore(storage, tmp_path, astronaut):
    tool = PointsTool(storage)
    dog = str(shared_sample("sources/s30.jpg"))
    draft, preview, guide, diagram, name, faces = tool.start(dog)
    assert preview.shape == (PREVIEW_SIDE, PREVIEW_SIDE, 3) and name == "left_eye_outer"
    assert faces["choices"] == [("Face 1", 0)] and faces["value"] == 0
    for name in KEY_POINTS:  # a dozen clicks, as the guide asks
        draft, _, guide, _, name_shown, _ = _clicked(tool, dog, draft, DOG[name])
    assert draft.complete and draft.estimated == set(ESTIMABLE) and name_shown == "face_left"
    assert "12 of 12 points placed; 6 estimated" in guide
    for name in KEY_POINTS:  # a click lands within a preview pixel
        assert draft.points[name] == pytest.approx(DOG[name], abs=1 / preview_scale(DOG_SIZE))
    off = tool.click(dog, draft, SimpleNamespace(index=[PREVIEW_SIDE * 2, 10]))[0]
    assert off == draft  # outside the photo: nothing placed

    saved = tool.save(draft)["value"]
    assert set(json.loads(open(saved).read())) == set(REQUIRED)
    restored, _, guide, *_ = tool.restore(dog, PointsDraft(), saved)
    assert restored.points == draft.points and "12 of 12" in guide
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(DOG, chin=[900, 900])))
    with pytest.raises(gr.Error, match=r"points file: point chin \(900, 900\) is outside"):
        tool.restore(dog, draft, str(bad))
    bad.write_text("{not json")
    with pytest.raises(gr.Error, match="not valid JSON"):
        tool.restore(dog, draft, str(bad))
    with pytest.raises(gr.Error, match="No points to save"):
        tool.save(PointsDraft())

    with pytest.raises(gr.Error, match="No face found by the detector"):
        tool.detect(dog, draft)
    photo = str(write_image(tmp_path / "astronaut.png", astronaut))
    detected, preview, guide, *_ = tool.detect(photo, PointsDraft())
    assert set(detected.points) == set(POINT_NAMES) and "12 of 12" in guide
    face = FacePoints(dict(detected.points))
    face.check(astronaut.shape[:2])  # a plausible face, inside the photo
    left, right = detected.points["left_eye_outer"], detected.points["right_eye_outer"]
    assert left[0] < right[0] and 150 < left[0] < 250 and 60 < left[1] < 140


@pytest.fixture(scope="module")
def dog_run(storage, tmp_path_factory, open_mouth_driver):
    driver = write_image(tmp_path_factory.mktemp("drv") / "driver.png", open_mouth_driver)
    return Handlers(storage), str(shared_sample("sources/s30.jpg")), str(driver)


def test_a_dog_without_points_is_offered_the_tool(dog_run):
    handlers, dog, driver = dog_run
    with pytest.raises(gr.Error) as error:
        handlers.transfer_image(dog, driver, "warp", "all", False, 1.0, False, False)
    assert error.value.message.startswith("no face found in source image; ")
    assert 'open "Face points" below the photo' in error.value.message
    assert '(JSON: {"left_eye_outer": [x, y], ..., "chin": [x, y]} in pixels' in \
        error.value.message
    assert "\n" not in error.value.message


def test_placed_points_drive_the_dog(dog_run):
    """The dog placed by a dozen clicks: the open-mouth driver opens its mouth (its expression
    only: the head keeps its pose), nothing changes away from the face; the editor's surprise
    opens it too."""
    handlers, dog, driver = dog_run
    before = read_image(dog).astype(float)
    dozen = _placed(_first(12))
    out = read_image(handlers.transfer_image(dog, driver, "warp", "expression", False, 1.0,
                                             False, False, "largest", dozen))
    change = np.abs(out.astype(float) - before).mean(axis=2)
    mouth = change[int(DOG["mouth_top"][1]):int(DOG["chin"][1]),
                   int(DOG["mouth_left"][0]):int(DOG["mouth_right"][0])]
    outside = np.ones_like(change, dtype=bool)
    outside[30:, 30:-30] = False  # the chin is near the bottom
    assert mouth.mean() > 10 and change[outside].mean() < 0.5

    values = [0.0] * len(ExpressionControls.names())
    edited = read_image(handlers.edit_image(dog, "largest", dozen, "warp", "surprised",
                                            1.0, 0.0, *values))
    assert np.abs(edited.astype(float) - before).mean(axis=2)[outside].mean() < 0.5
    assert np.abs(edited.astype(float) - before).mean() > 1
    # The live editor skips while points are being placed; renders once they are complete.
    half = _placed(_first(5))
    assert isinstance(handlers.edit_live(dog, "largest", half, "warp", "surprised", 1.0, 0.0,
                                         *values), type(gr.skip()))
    assert read_image(handlers.edit_live(dog, "largest", dozen, "warp", "surprised", 1.0,
                                         0.0, *values)).shape == before.shape


def test_placed_points_drive_the_dog_live(dog_run, hopper):
    """The Live tab's handler drives the dog by its dozen clicked points; incomplete ones say
    so in the status line."""
    import cv2

    from deepexpo.ui.live import LiveHandlers

    _, dog, _ = dog_run
    handlers = LiveHandlers()
    visitor = SimpleNamespace(session_hash="dog")
    frame = cv2.imencode(".jpg", np.ascontiguousarray(hopper[..., ::-1]))[1].tobytes()
    settings = ("all", 1.0, True, True)
    try:
        half = _placed(_first(5))
        assert handlers.frame(frame, dog, *settings, half, visitor)[1].startswith(
            "face points: 7 of the 12 points are not placed yet")
        image, status = handlers.frame(frame, dog, *settings, _placed(_first(12)), visitor)
        assert image.shape == (*DOG_SIZE, 3) and status.startswith("Live:")
    finally:
        handlers.stop(visitor)


def _cartoons() -> tuple[np.ndarray, dict, dict]:
    """Two drawn cartoons side by side (no detector finds them), and each one's points."""
    from .test_placed_faces import drawn_cartoon

    left, left_points = drawn_cartoon(size=300)
    right, right_points = drawn_cartoon(mouth_half=36, size=300)
    shifted = {name: [x + 300, y] for name, (x, y) in right_points.items()}
    return np.concatenate([left, right], axis=1), left_points, shifted


def test_several_faces_are_placed_saved_restored_and_each_driven(storage, tmp_path, dog_run):
    image, left, right = _cartoons()
    photo = str(write_image(tmp_path / "two.png", image))
    tool = PointsTool(storage)
    draft, *_ = tool.start(photo)

    def place(draft: PointsDraft, points: dict, names: tuple[str, ...]) -> PointsDraft:
        for name in names:  # each chosen from the list first: the mouth's are 3 px apart
            draft, *_ = _clicked(tool, photo, tool.choose(photo, draft, name)[0], points[name])
        return draft

    draft = place(draft, left, REQUIRED)
    with pytest.raises(gr.Error, match="place the 12 points of face 2 before adding another"):
        tool.add_face(photo, tool.add_face(photo, draft)[0])
    draft, _, guide, _, name, faces = tool.add_face(photo, draft)
    assert guide.startswith("Face 2 of 2: **Next: `left_eye_outer`**") and name == POINT_NAMES[0]
    assert faces["choices"] == [("Face 1", 0), ("Face 2", 1)] and faces["value"] == 1
    draft = place(draft, right, REQUIRED[:4])
    with pytest.raises(PointsError, match=r"^face points: face 2: 9 of the 12 points are not "
                                          r"placed yet \(next: right_eye_inner\); place them, or Remove "
                                          r"face to drop it$"):
        source_points(draft)
    assert draft.incomplete and draft.undo().faces[0] == draft.faces[0]  # undo: this face's
    draft = place(draft, right, REQUIRED[4:])
    first, *_ = tool.choose_face(photo, draft, 0)  # back to face 1: its points, to move
    assert first.face == 0 and first.points == draft.faces[0] and first.faces == draft.faces
    placed = source_points(draft)
    assert [face["chin"][0] for face in placed] == pytest.approx([left["chin"][0],
                                                                 right["chin"][0]], abs=1)
    # The preview draws both faces' meshes; Remove face drops the one being placed.
    one, _ = PointsDraft.editing(draft.faces[:1], 0).preview(PreviewPhoto.of(image))
    both, problem = draft.preview(PreviewPhoto.of(image))
    assert problem is None, problem
    right_half = both.shape[1] // 2
    assert np.abs(both[:, right_half:].astype(float) - one[:, right_half:]).mean() > 2
    assert source_points(tool.remove_face(photo, draft)[0])[0] == placed[0]
    # Saved as a list of both, restored as both.
    saved = tool.save(draft)["value"]
    assert [face["chin"] for face in json.loads(open(saved).read())] == \
        [list(face.to_json_object()["chin"]) for face in placed]
    restored, _, guide, _, _, faces = tool.restore(photo, PointsDraft(), saved)
    assert restored.faces == draft.faces and faces["value"] == 0
    assert guide.startswith("Face 1 of 2: **Next: `face_left`**")  # the optional ones
    # The transfer drives each face: both mouths open with the driver's.
    handlers, _, driver = dog_run
    out = read_image(handlers.transfer_image(photo, driver, "warp", "expression", False, 1.0,
                                             False, False, "largest", draft))
    for points in (left, right):
        y, x = points["mouth_left"][1], points["nose_tip"][0]
        mouth = (slice(y, y + 20), slice(x - 10, x + 10))
        assert np.abs(out[mouth].astype(float) - image[mouth]).mean() > 15


@pytest.fixture(scope="module")
def sliding_cartoons(tmp_path_factory) -> tuple[Path, np.ndarray, dict]:
    """Two drawn cartoons sliding right, 5 px a frame for 6 frames (no detector finds them),
    its first frame, and the left one's points there."""
    import cv2

    from deepexpo.io.video import Mp4Writer

    image, left, _ = _cartoons()
    clip = tmp_path_factory.mktemp("sliding") / "cartoon.mp4"
    with Mp4Writer(clip, 10.0) as writer:
        for shift in range(0, 30, 5):  # sliding right
            writer.write(cv2.warpAffine(image, np.float32([[1, 0, shift], [0, 1, 0]]),
                                        image.shape[1::-1], borderMode=cv2.BORDER_REPLICATE))
    return clip, image, left


def test_the_video_tab_places_a_source_videos_face_on_its_first_frame(storage, tmp_path,
                                                                      dog_run, driving_video,
                                                                      sliding_cartoons):
    """With a source video, the tool places on its first frame; the run follows the face
    placed there through the video and drives it."""
    from deepexpo.io.video import Mp4Writer

    from .conftest import read_frames

    clip, image, left = sliding_cartoons
    tool = PointsTool(storage)
    photo = str(write_image(tmp_path / "photo.png", image))
    assert tool.placed_on(None, photo) == photo and tool.placed_on(None) is None
    first = read_image(tool.placed_on(str(clip), photo))
    assert first.shape == image.shape and np.abs(first.astype(float) - image).mean() < 3
    draft = PointsDraft.of(FacePoints.from_json_object(left))
    handlers, _, _ = dog_run
    out = read_frames(Path(handlers.transfer_video(
        photo, str(driving_video), "warp", "expression", False, 1.0, False, False, str(clip),
        "largest", draft)))
    sources = read_frames(clip)
    assert len(out) == len(sources) == 6
    y, x = left["mouth_left"][1], left["nose_tip"][0]
    for i in range(6):  # the driver's mouth opens at its frame 4, where the face slid 20 px
        mouth = (slice(y, y + 20), slice(x + 5 * i - 10, x + 5 * i + 10))
        change = np.abs(out[i][mouth].astype(float) - sources[i][mouth]).mean()
        assert change > 10 if i >= 4 else change < 5, (i, change)
    blank = tmp_path / "blank.mp4"
    with Mp4Writer(blank, 10.0) as writer:
        for _ in range(3):
            writer.write(np.full((120, 160, 3), 180, np.uint8))
    with pytest.raises(gr.Error) as error:  # no face: the message offers the tool
        handlers.transfer_video(None, str(driving_video), "warp", "all", False, 1.0, False,
                                False, str(blank))
    assert error.value.message.startswith("no face found in any frame of source video "
                                          "'blank.mp4'; if it is an animal")
    assert 'open "Face points" below the photo' in error.value.message
    with pytest.raises(gr.Error, match="a video drives one face"):
        handlers.transfer_video(photo, str(driving_video), "warp", "all", False, 1.0, False,
                                False, str(clip), "largest",
                                PointsDraft.of(*map(FacePoints.from_json_object, _cartoons()[1:])))


def test_the_editor_edits_a_source_videos_face_placed_on_its_first_frame(
        storage, tmp_path, dog_run, sliding_cartoons):
    """The editor's "Apply to a video" has the tool too (on the video's first frame): the
    blink control shuts the placed cartoon's eyes in every frame, where they slid to, and
    leaves the other cartoon as it is; where no face is found, the message offers the tool."""
    from deepexpo.io.video import Mp4Writer

    from .conftest import read_frames

    clip, image, left = sliding_cartoons
    tool = PointsTool(storage, "a video")
    assert tool.start(None)[2] == "Upload a video first."  # its guide, before a video
    first = read_image(tool.placed_on(str(clip)))
    assert first.shape == image.shape and np.abs(first.astype(float) - image).mean() < 3
    handlers, _, _ = dog_run
    values = [1.0 if name == "blink" else 0.0 for name in ExpressionControls.names()]
    draft = PointsDraft.of(FacePoints.from_json_object(left))
    out = read_frames(Path(handlers.edit_video(str(clip), None, draft, "warp", "none", 1.0, 1.0,
                                               *values)))
    sources = read_frames(clip)
    assert len(out) == len(sources) == 6
    for i, (source, frame) in enumerate(zip(sources, out, strict=True)):
        for side in ("left", "right"):  # each eye's dark pupil is gone: the lid covers it
            x = np.mean([left[f"{side}_eye_outer"][0], left[f"{side}_eye_inner"][0]]) + 5 * i
            y = left[f"{side}_eye_outer"][1]
            box = (slice(y - 5, y + 12), slice(int(x) - 8, int(x) + 8))
            dark = [np.mean(picture[box].mean(axis=2) < 70) for picture in (source, frame)]
            assert dark[0] > 0.3 and dark[1] < 0.3 * dark[0], (i, side, dark)
        other = (slice(None), slice(330 + 5 * i, None))  # the right cartoon, not placed
        changed = np.abs(frame[other].astype(int) - source[other]).sum(axis=2) > 40
        assert changed.mean() < 0.001, i  # the encoding's own change is a few levels
    blank = tmp_path / "blank.mp4"
    with Mp4Writer(blank, 10.0) as writer:
        for _ in range(3):
            writer.write(np.full((120, 160, 3), 180, np.uint8))
    with pytest.raises(gr.Error) as error:  # no face found: the message offers the tool
        handlers.edit_video(str(blank), None, None, "warp", "none", 1.0, 1.0, *values)
    assert error.value.message.startswith("no face found in any frame of video 'blank.mp4'; "
                                          "if it is an animal")
    assert 'open "Face points" below the photo or video' in error.value.message
    with pytest.raises(gr.Error, match="the neural engine reads faces from the pixels"):
        handlers.edit_video(str(clip), None, draft, "neural", "none", 1.0, 1.0, *values)


def test_the_neural_engine_refuses_placed_faces_in_one_line(dog_run):
    handlers, dog, driver = dog_run
    with pytest.raises(gr.Error) as error:
        handlers.transfer_image(dog, driver, "neural", "all", False, 1.0, False, False,
                                "largest", _placed())
    assert error.value.message.startswith("the neural engine reads faces from the pixels and "
                                          "cannot drive a face placed by points")
