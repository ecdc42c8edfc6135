"""Face points: the named points, their JSON files, their checks, and the mesh fitted to them."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from deepexpo.errors import InputError
from deepexpo.face.points import (
    BROW_GAP,
    BROW_OUTER_REACH,
    ESTIMABLE,
    KEY_POINTS,
    OPTIONAL,
    POINT_HELP,
    POINT_NAMES,
    REQUIRED,
    FacePoints,
    PointsError,
    estimate_missing,
    load_points,
    parse_points,
    points_json,
    save_points,
)
from deepexpo.face.topology import TOPOLOGY
from deepexpo.io.images import read_image
from deepexpo.motion.controls import ExpressionControls, ExpressionEdit

from .conftest import shared_sample
from .placed_faces import PLACED

#: A drawn cartoon face in a 400 x 400 image: eyes 3x as tall as a person's for their width,
#: a small mouth far below a short nose.
CARTOON = {
    "left_eye_outer": [110, 170], "left_eye_inner": [170, 172],
    "left_eye_top": [140, 130], "left_eye_bottom": [140, 205],
    "right_eye_inner": [230, 172], "right_eye_outer": [290, 170],
    "right_eye_top": [260, 130], "right_eye_bottom": [260, 205],
    "left_brow_outer": [105, 110], "left_brow_inner": [170, 112],
    "right_brow_inner": [230, 112], "right_brow_outer": [295, 110],
    "nose_tip": [200, 235], "mouth_left": [170, 280], "mouth_right": [230, 280],
    "mouth_top": [200, 270], "mouth_bottom": [200, 292], "chin": [200, 330],
}


def cartoon(**changes: list[float] | None) -> dict:
    points = dict(CARTOON)
    for name, value in changes.items():
        if value is None:
            points.pop(name)
        else:
            points[name] = value
    return points


def test_point_names_are_documented_in_order():
    assert len(REQUIRED) == 18 and OPTIONAL == ("face_left", "face_right", "face_top")
    assert POINT_NAMES == REQUIRED + OPTIONAL and set(POINT_HELP) == set(POINT_NAMES)
    assert all(POINT_HELP[n].startswith("optional") for n in OPTIONAL)
    assert len(KEY_POINTS) == 12 and sorted(KEY_POINTS + ESTIMABLE) == sorted(REQUIRED)
    assert set(ESTIMABLE) == {f"{side}_{part}" for side in ("left", "right")
                              for part in ("eye_bottom", "brow_outer", "brow_inner")}


def test_json_round_trip_one_face_and_several(tmp_path):
    one = parse_points(json.dumps(CARTOON))
    assert len(one) == 1 and one[0].to_json_object() == CARTOON
    shifted = FacePoints({n: (x + 400.0, y) for n, (x, y) in one[0].points.items()})
    path = save_points(tmp_path / "two.json", [one[0], shifted])
    loaded = load_points(path)
    assert [f.to_json_object() for f in loaded] == [CARTOON, shifted.to_json_object()]
    assert isinstance(json.loads(path.read_text()), list)
    assert json.loads(points_json(one)) == CARTOON  # one face: an object, not a list
    assert not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize("data, message", [
    ("{not json", "not valid JSON"),
    ("[]", "the list of faces is empty"),
    ("42", "expected an object of named points"),
    (json.dumps(cartoon(chin=None, nose_tip=None)), "missing points nose_tip, chin"),
    (json.dumps(cartoon(nose_tp=[1, 2])), "unknown point 'nose_tp' (did you mean nose_tip?)"),
    (json.dumps(cartoon(chin=[200])), "point chin must be [x, y] in pixels, not [200]"),
    (json.dumps(cartoon(chin=["a", 3])), "point chin must be [x, y]"),
    (json.dumps([CARTOON, cartoon(mouth_top=None)]), "face 1: missing point mouth_top"),
    (json.dumps(cartoon(left_eye_top=None, left_eye_bottom=None)),
     "missing point left_eye_top (each face needs all of: left_eye_outer, left_eye_top, "),
    (json.dumps(cartoon(left_eye_top=[140, 175], left_eye_bottom=None)),
     "left_eye_top must be above the line through left_eye_outer and left_eye_inner "
     "(to estimate left_eye_bottom)"),
])
def test_bad_files_get_one_line_errors(data, message):
    with pytest.raises(PointsError) as error:
        parse_points(data, "points file 'x.json'")
    text = str(error.value)
    assert message in text and "\n" not in text and text.startswith("points file 'x.json'")


def _turned(points: dict, degrees: float, scale: float, shift: tuple[float, float]) -> dict:
    turn = np.radians(degrees)
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    return {n: list(scale * rot @ np.asarray(xy, float) + shift) for n, xy in points.items()}


def test_the_points_left_out_are_estimated_from_the_dozen_on_a_drawn_cartoon():
    """On a cartoon drawn with round eyes (34 x 42 px radii) and brows 23 px above them, as
    wide as the eyes: each eye's bottom is found exactly, each brow within its gap
    (:data:`BROW_GAP` of the eye's 68 px width, 20 px) and reach (7 px beyond the outer
    corner); turned, shrunk and moved, the estimates turn, shrink and move with the face."""
    from .test_placed_faces import drawn_cartoon

    _, drawn = drawn_cartoon()
    keys = {n: drawn[n] for n in KEY_POINTS}
    estimated = estimate_missing(keys)
    assert set(estimated) == set(ESTIMABLE)
    for side, outward in (("left", -1), ("right", 1)):
        assert estimated[f"{side}_eye_bottom"] == pytest.approx(drawn[f"{side}_eye_bottom"])
        gap = BROW_GAP * 68
        for end, reach in (("outer", outward * BROW_OUTER_REACH * 68), ("inner", 0.0)):
            x, y = estimated[f"{side}_brow_{end}"]
            assert x == pytest.approx(drawn[f"{side}_eye_{end}"][0] + reach, abs=0.1)
            assert y == pytest.approx(drawn[f"{side}_eye_top"][1] - gap, abs=0.1)
            assert abs(y - drawn[f"{side}_brow_{end}"][1]) < 3  # the drawn brow
    turned = estimate_missing(_turned(keys, 25, 0.6, (90, -20)))
    for name, xy in _turned(estimated, 25, 0.6, (90, -20)).items():
        assert turned[name] == pytest.approx(xy, abs=0.1), name
    # What is given is kept; only what is left out is estimated.
    assert estimate_missing(drawn) == {}
    assert set(estimate_missing(dict(keys, left_eye_bottom=[140, 200]))) == \
        set(ESTIMABLE) - {"left_eye_bottom"}


def test_a_file_of_the_dozen_key_points_loads_complete(tmp_path):
    keys = {n: CARTOON[n] for n in KEY_POINTS}
    path = tmp_path / "key.json"
    path.write_text(json.dumps(keys))
    (face,) = load_points(path)
    assert set(face.points) == set(REQUIRED)
    assert face.to_json_object() == {**keys, **{n: list(v)
                                                for n, v in estimate_missing(keys).items()}}
    # The eye's top 41 px above its corners, its bottom as far below them.
    assert face["left_eye_bottom"] == pytest.approx((140 - 2.7, 171 + 41), abs=0.5)
    face.fit((400, 400))  # a plausible face
    given = FacePoints.from_json_object(dict({n: CARTOON[n] for n in KEY_POINTS},
                                             right_brow_outer=[300, 100]))
    assert given.points["right_brow_outer"] == (300, 100)


def test_unreadable_and_oversized_files(tmp_path):
    with pytest.raises(PointsError, match="cannot read points file 'absent.json'"):
        load_points(tmp_path / "absent.json")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 << 20))
    with pytest.raises(PointsError, match="larger than 1 MiB"):
        load_points(big)


def swap(points: dict, a: str, b: str) -> dict:
    out = dict(points)
    out[a], out[b] = points[b], points[a]
    return out


@pytest.mark.parametrize("points, message", [
    (cartoon(chin=[200, 420]), "point chin (200, 420) is outside the 400x400 image"),
    (cartoon(left_eye_outer=[-3, 170]), "left_eye_outer (-3, 170) is outside"),
    ({**{n: v for n, v in CARTOON.items() if n.startswith("mouth") or "brow" in n
         or n in ("nose_tip", "chin")},
      **{n.replace("left", "@").replace("right", "left").replace("@", "right"): v
         for n, v in CARTOON.items() if "_eye_" in n}}, "the eyes are swapped"),
    (swap(CARTOON, "left_eye_outer", "left_eye_inner"),
     "left_eye_outer must be left of left_eye_inner"),
    (swap(CARTOON, "mouth_top", "mouth_bottom"), "mouth_bottom must be below mouth_top"),
    (cartoon(left_eye_top=[140, 172], left_eye_bottom=[140, 172]),
     "left_eye_bottom must be below left_eye_top"),
    (cartoon(mouth_left=[170, 172], mouth_right=[230, 172], mouth_top=[200, 165],
             mouth_bottom=[200, 180], nose_tip=[200, 160], chin=[200, 190]),
     "degenerate"),
    (cartoon(nose_tip=[200, 120]), "nose_tip must be below the eyes"),
    (cartoon(right_brow_inner=[230, 150], right_brow_outer=[295, 150]),
     "the right brow must be above the right eye's top"),
    (cartoon(face_left=[150, 170]), "face_left must be left of left_eye_outer"),
])
def test_implausible_faces_get_one_line_errors(points, message):
    with pytest.raises(PointsError) as error:
        FacePoints.from_json_object(points).fit((400, 400), "points file 'c.json'")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_fit_that_would_fold_the_face_is_refused():
    # Every point in its place, but a mouth as wide as the image: the cheeks turn over.
    folded = cartoon(mouth_left=[2, 280], mouth_right=[398, 280])
    with pytest.raises(PointsError, match="fold the face over"):
        FacePoints.from_json_object(folded).fit((400, 400))


def test_the_fit_puts_each_part_on_its_points():
    """The eyes, brows, mouth, nose tip and chin of the fitted mesh are where they were
    placed (the cartoon's tall eyes included), and the rest of the mesh stays unfolded."""
    points = FacePoints.from_json_object(CARTOON)
    face = points.fit((400, 400))
    assert face.placed and face.points.shape == (478, 3) and face.image_size == (400, 400)
    back = FacePoints.from_landmarks(face)
    for name in REQUIRED:
        assert np.linalg.norm(back[name] - points[name]) < 1.0, name
    # The fitted eyes are as tall as the drawn ones (75 px for 60 across, 4x a person's
    # opening for the width), and the chin is the face's bottom.
    for eye in (TOPOLOGY.right_eye, TOPOLOGY.left_eye):
        width, height = np.ptp(face.xy[eye], axis=0)
        assert width == pytest.approx(60, abs=1.5) and height == pytest.approx(75, abs=1.5)
    assert face.bbox[3] == pytest.approx(330, abs=1.0)


def test_points_prefilled_from_a_detected_face_fit_back_onto_it(astronaut, landmarker):
    detected = landmarker.detect(astronaut)
    points = FacePoints.from_landmarks(detected)
    assert set(points.points) == set(POINT_NAMES)
    fitted = points.fit(astronaut.shape[:2])
    eye_distance = np.linalg.norm(points["left_eye_outer"] - points["right_eye_outer"])
    error = np.linalg.norm(fitted.xy - detected.xy, axis=1) / eye_distance
    assert np.median(error) < 0.05 and np.percentile(error, 95) < 0.12


@pytest.mark.parametrize("name", sorted(PLACED))
def test_the_shared_animals_and_cartoon_fit(name):
    image = read_image(shared_sample(f"sources/{name}"))
    points = parse_points(json.dumps(PLACED[name]))[0]
    face = points.fit(image.shape[:2])
    back = FacePoints.from_landmarks(face)
    for part in REQUIRED:
        assert np.linalg.norm(back[part] - points[part]) < 1.0, part


# --- engines on placed faces --------------------------------------------------------------------

NEURAL_REFUSES = ("the neural engine reads faces from the pixels and cannot drive a face placed "
                  "by points (an animal, a cartoon): use the warp engine (or auto, which "
                  "chooses it)")


def test_auto_drives_placed_faces_with_the_warp_engine_and_neural_refuses_them(
        tiny_weights, monkeypatch, tmp_path, capsys, hopper):
    """Where ``auto`` would take the neural engine (its weights here, a GPU), placed faces go
    to the warp engine; the neural engine asked for by name is a one-line error, through the
    Python API, the CLI (exit 2, before any model loads) and a pipeline built on it."""
    import deepexpo
    from deepexpo.cli import main
    from deepexpo.engines import resolve_engine
    from deepexpo.engines.neural_engine import NeuralEngine
    from deepexpo.engines.registry import PHOTO, VIDEO
    from deepexpo.engines.warp_engine import WarpEngine
    from deepexpo.io.images import write_image
    from deepexpo.pipeline import TransferPipeline
    from deepexpo.testing.tiny_liveportrait import tiny_networks

    from .test_placed_faces import drawn_cartoon

    monkeypatch.setenv("DEEPEXPO_NEURAL_WEIGHTS", tiny_weights)
    monkeypatch.setattr("deepexpo.engines.cuda_available", lambda: True)
    image, points = drawn_cartoon(size=300)
    placed = (FacePoints.from_json_object(points),)
    assert resolve_engine("auto", PHOTO) == resolve_engine("auto", VIDEO) == "neural"
    assert resolve_engine("auto", PHOTO.placing(placed)) == "warp"
    assert resolve_engine("auto", VIDEO.placing(placed)) == "warp"
    deepexpo.get_pipeline.cache_clear()
    try:
        out = deepexpo.transfer_image(image, hopper, source_points=points)  # auto: the warp
        assert out.shape == image.shape
        assert isinstance(deepexpo.get_pipeline("auto", job=PHOTO.placing(placed)).engine,
                          WarpEngine)
        with pytest.raises(InputError, match=r"^" + re.escape(NEURAL_REFUSES) + "$"):
            deepexpo.transfer_image(image, hopper, engine="neural", source_points=points)
    finally:
        deepexpo.get_pipeline.cache_clear()
    source, points_file = tmp_path / "cartoon.png", tmp_path / "cartoon.json"
    write_image(source, image)
    points_file.write_text(json.dumps(points))
    for command in (["transfer", "--driving", str(source)], ["edit", "--blink", "1"]):
        assert main([*command, "--source", str(source), "--output", str(tmp_path / "out.png"),
                     "--engine", "neural", "--source-points", str(points_file)]) == 2
        assert capsys.readouterr().err.strip() == f"error: {NEURAL_REFUSES}"
    neural = TransferPipeline(NeuralEngine(tiny_networks(), device="cpu"))
    with pytest.raises(InputError, match=re.escape(NEURAL_REFUSES)):
        neural.edit_image(image, ExpressionEdit(), points=placed)


@pytest.mark.parametrize("name", sorted(PLACED))
def test_an_animal_placed_by_its_dozen_key_points_blinks_like_fully_placed(pipeline, name):
    """The shared animals and cartoon placed by their key points only (the rest estimated):
    the mesh lies where the hand-placed points put it (median within 2% of the eyes' span)
    and a blink changes the face as much, and within a quarter of that change the same way,
    as with all 18 points placed by hand."""
    image = read_image(shared_sample(f"sources/{name}"))
    full = FacePoints.from_json_object(PLACED[name])
    key = FacePoints.from_json_object({n: PLACED[name][n] for n in KEY_POINTS})
    span = np.linalg.norm(full["left_eye_outer"] - full["right_eye_outer"])
    apart = np.linalg.norm(full.fit(image.shape[:2]).xy - key.fit(image.shape[:2]).xy, axis=1)
    assert np.median(apart) < 0.02 * span
    x0, y0, x1, y1 = map(int, full.bbox)
    face = (slice(y0, y1), slice(x0, x1))
    blink = ExpressionEdit(ExpressionControls(blink=1.0))
    by_full, by_key = (pipeline.edit_image(image, blink, points=[points]).astype(float)[face]
                       for points in (full, key))
    change = np.abs(by_full - image[face]).mean()
    assert np.abs(by_key - image[face]).mean() == pytest.approx(change, rel=0.2)
    assert np.abs(by_key - by_full).mean() < 0.25 * change
