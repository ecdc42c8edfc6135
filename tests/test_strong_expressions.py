"""Strong expressions in the warp engine, read back with MediaPipe on the output: a happy face
raises its cheeks and lower lids (a Duchenne smile), a blink closes even small painted eyes
without dark fragments, a turned head turns back through frontal."""

from __future__ import annotations

import cv2
import matplotlib.cbook
import numpy as np
from PIL import Image

from deepexpo.engines.warp_engine import WarpEngine
from deepexpo.io.images import read_image
from deepexpo.motion.controls import ExpressionControls, ExpressionEdit
from deepexpo.motion.eyelids import eyelids
from tests.conftest import SHARED, pose_face

CHEEKS = [50, 280, 205, 425]


def _eye_corners_y(canonical: np.ndarray) -> float:
    return float(canonical[[33, 133, 362, 263], 1].mean())


def test_happy_raises_the_cheeks_and_lifts_the_lower_lids(astronaut, hopper, landmarker,
                                                          measure):
    engine = WarpEngine()
    lids = []
    for image in (hopper, astronaut):
        before = measure.motion(image).canonical
        out = engine.edit(engine.prepare_source(image, landmarker.detect(image)),
                          ExpressionEdit.emotion("happy"))
        after = measure.motion(out).canonical
        # Heights above the eye corners, in outer-eye-corner distances (y points down).
        cheek = (before[CHEEKS, 1] - _eye_corners_y(before)).mean() \
            - (after[CHEEKS, 1] - _eye_corners_y(after)).mean()
        lower = np.r_[tuple(lid.lower for lid in eyelids())]
        lid = (before[lower, 1] - _eye_corners_y(before)).mean() \
            - (after[lower, 1] - _eye_corners_y(after)).mean()
        assert cheek > 0.01
        lids.append(lid)
    # MediaPipe reads a lower lid pushed up over the iris only in part (a third of it).
    assert np.mean(lids) > 0.005


def _dark_specks(image: np.ndarray, box: tuple[slice, slice]) -> int:
    """Pixels much darker (40 levels) than the median of their 5x5 neighbourhood: the dashes
    and fragments a squeezed eye leaves."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[box].astype(np.int32)
    local = cv2.medianBlur(gray.astype(np.uint8), 5).astype(np.int32)
    return int((gray < local - 40).sum())


def _eye_box(xy: np.ndarray, shape: tuple[int, ...]) -> tuple[slice, slice]:
    eyes = xy[np.r_[tuple(np.r_[lid.outline, lid.lid] for lid in eyelids())]]
    (x0, y0), (x1, y1) = eyes.min(0).astype(int) - 3, eyes.max(0).astype(int) + 4
    return slice(max(y0, 0), min(y1, shape[0])), slice(max(x0, 0), min(x1, shape[1]))


def _small_painted_eyes() -> list[np.ndarray]:
    """Faces whose eyes are a few pixels high: the sample painting and old photo at their own
    size, and the bundled astronaut shrunk to a 160 px face."""
    faces = []
    for name in ("s12.jpg", "s10.jpg"):
        path = SHARED / "samples" / "sources" / name
        if path.exists():
            faces.append(read_image(path))
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = np.asarray(Image.open(f).convert("RGB"))
    faces.append(cv2.resize(hopper, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    return faces


def test_a_blink_closes_small_eyes_without_fragments(landmarker, astronaut):
    """Shut, an eye a few pixels high reads shut (MediaPipe on the output; it reads painted and
    low-resolution shut eyes as half open, so those are checked for fragments only), and the
    line where the lids meet is no dashed seam of squeezed iris: the output has well under the
    source's dark specks around its eyes (the warp's own squeeze left two thirds of them)."""
    engine = WarpEngine()
    small = cv2.resize(astronaut, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    for k, image in enumerate([small, *_small_painted_eyes()]):
        face = landmarker.detect(image)
        out = engine.edit(engine.prepare_source(image, face),
                          ExpressionEdit(ExpressionControls(blink=1.0)))
        box = _eye_box(face.xy, image.shape)
        if k == 0:
            closed = landmarker.detect(out).xy
            for lid in eyelids():
                assert lid.opening(closed) < 0.35 * lid.opening(face.xy)
        assert _dark_specks(out, box) < 0.58 * _dark_specks(image, box)


def test_a_turned_head_turns_back_through_frontal(astronaut, landmarker, measure):
    """The turn limit caps the change from the source's own pose, not the pose itself: a head
    turned one way turns back past frontal. (The warp shows about half a turn to MediaPipe,
    which reads the unmoved outline too; dlib reads it whole.)"""
    engine = WarpEngine()
    turned = pose_face(astronaut, landmarker, yaw=25.0)
    sources = [turned]
    path = SHARED / "samples" / "sources" / "s10.jpg"
    if path.exists():
        sources.append(read_image(path))  # a painting turned about 33 degrees
    for image in sources:
        before = measure.yaw(image)
        back = -np.sign(before) * 40.0  # past the 30-degree limit, past frontal
        out = engine.edit(engine.prepare_source(image, landmarker.detect(image)),
                          ExpressionEdit(ExpressionControls(yaw=back)))
        turned_by = measure.yaw(out) - before
        assert np.sign(turned_by) == np.sign(back)
        assert 10.0 < abs(turned_by) <= 31.0
