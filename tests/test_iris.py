"""The iris is carried inside its eye without folding the map, whole where it shows."""

import cv2
import numpy as np
import pytest

from deepexpo.geometry.boxes import PixelBox
from deepexpo.io.images import read_image
from deepexpo.motion.eyelids import eyelids
from deepexpo.render.iris import carry_iris
from tests.conftest import shared_sample
from tests.test_mouth import _screamed


def _eye(width: float = 60.0, height: float = 24.0, centre=(100.0, 50.0)) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    return np.c_[centre[0] + width / 2 * np.cos(angle), centre[1] + height / 2 * np.sin(angle)]


def _identity(region: PixelBox) -> np.ndarray:
    ys, xs = np.mgrid[region.y0:region.y1, region.x0:region.x1].astype(np.float32)
    return np.dstack([xs, ys])


def test_the_iris_centre_samples_the_source_iris_and_the_corners_stay():
    region = PixelBox(40, 20, 160, 80)
    source_xy = _identity(region)
    carry_iris(source_xy, region, _eye(), _eye(), np.array([106.0, 50.0]), np.array([100.0, 50.0]), 9.0)

    np.testing.assert_allclose(source_xy[50 - 20, 106 - 40], [100.0, 50.0], atol=1e-4)
    np.testing.assert_allclose(source_xy[50 - 20, 98 - 40], [92.0, 50.0], atol=1e-4)  # the disc
    identity = _identity(region)
    for x in (70, 130):  # the corners, and everything outside the eye
        np.testing.assert_allclose(source_xy[50 - 20, x - 40], identity[50 - 20, x - 40])
    np.testing.assert_array_equal(source_xy[:12], identity[:12])


def test_a_shift_too_far_for_the_white_of_the_eye_stops_short_of_folding():
    region = PixelBox(40, 20, 160, 80)
    source_xy = _identity(region)
    carry_iris(source_xy, region, _eye(), _eye(), np.array([112.0, 50.0]), np.array([90.0, 50.0]), 9.0)

    row = source_xy[50 - 20, :, 0]
    assert np.all(np.diff(row) > 0.1)  # still in order: nothing shown twice or mirrored
    assert row[112 - 40] < 112.0 - 5  # but moved as far as it could


def test_an_iris_that_does_not_move_leaves_the_map_alone_even_in_a_corner():
    region = PixelBox(40, 20, 160, 80)
    for x in (100.0, 121.0):  # the middle, and further into the corner than a move may go
        source_xy = _identity(region)
        carry_iris(source_xy, region, _eye(), _eye(), np.array([x, 50.0]), np.array([x, 50.0]), 9.0)
        np.testing.assert_allclose(source_xy, _identity(region), atol=1e-4)


def test_an_iris_sent_into_the_corner_stops_short_of_it():
    region = PixelBox(40, 20, 160, 80)
    source_xy = _identity(region)
    carry_iris(source_xy, region, _eye(), _eye(), np.array([127.0, 50.0]), np.array([100.0, 50.0]), 9.0)
    row = source_xy[50 - 20, :, 0]
    stop = 130 - 9 - 0.3 * 9  # the corner, less the iris's radius and some white
    assert abs(row[round(stop) - 40] - 100.0) < 1.5  # the iris centre got there, no further
    assert np.all(np.diff(row) > 0)  # the white between it and the corner squeezed, not folded
    np.testing.assert_allclose(row[130 - 40:], np.arange(130, 160), atol=1e-4)


def _iris_outline(image: np.ndarray, centre: np.ndarray, radius: float) -> tuple[float, int]:
    """A blue iris's shape near ``centre`` (read on pixels: bluer than red by 10 levels): how far
    its lower outline (no lid over it), the furthest of its pixels in each of 72 directions,
    departs at most from the circle through it, in pixels; and how many blue pixels lie apart
    from it within 1.4 of its radius (slivers, sickles cut off it)."""
    x0, y0 = np.floor(centre - 2 * radius).astype(int)
    size = int(np.ceil(4 * radius))
    patch = image[y0:y0 + size, x0:x0 + size].astype(int)
    blue = (patch[..., 2] - patch[..., 0] > 10).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(blue, connectivity=8)
    iris = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero(labels == iris)
    xy = np.c_[xs, ys].astype(float)
    middle, r = xy.mean(axis=0), radius
    for _ in range(3):  # the rim below the middle, and the circle through it
        offset = xy - middle
        direction = np.round(np.arctan2(offset[:, 1], offset[:, 0]) / (2 * np.pi) * 72) % 72
        distance = np.hypot(*offset.T)
        rim = np.array([xy[direction == d][np.argmax(distance[direction == d])]
                        for d in np.unique(direction)])
        lower = rim[rim[:, 1] > middle[1]]
        (cx, cy, c), *_ = np.linalg.lstsq(np.c_[2 * lower, np.ones(len(lower))],
                                          (lower ** 2).sum(axis=1), rcond=None)
        middle, r = np.array([cx, cy]), float(np.sqrt(c + cx * cx + cy * cy))
    departure = float(np.abs(np.hypot(*(lower - middle).T) - r).max())
    bluish = np.c_[np.nonzero(blue)[::-1]]
    near = np.hypot(*(bluish - middle).T) < 1.4 * r
    return departure, int((near & (labels[blue > 0] != iris)).sum())


@pytest.mark.parametrize("driving", ["d19.jpg", "d8.jpg"])
def test_a_cartoons_iris_moves_whole_where_its_lids_landmarks_cross_it(landmarker, driving):
    """s7, a cartoon boy whose eyes are drawn larger than MediaPipe reads them (the lids'
    landmarks cross his irises inside the lash line), driven by d19's wide-open eyes and by d8:
    each iris is carried with the gaze whole and round. Cut at the landmarks, its part beyond
    them stayed behind: a sickle of its rim below the left iris (its lower outline 2.8 px off
    its circle, by d19), a blue sliver under the right one (14 pixels), a notch (2.9 px, by d8)."""
    image = read_image(shared_sample("sources/s7.jpg"))
    face, out, _ = _screamed(image, landmarker, driving)
    for lid in eyelids():
        centre = face.xy[lid.iris[0]]
        radius = float(np.linalg.norm(face.xy[lid.iris[1:]] - centre, axis=1).mean())
        assert _iris_outline(image, centre, radius) == (pytest.approx(0.0, abs=1.0), 0)
        departure, apart = _iris_outline(out, centre, radius)
        assert departure < 2.0
        assert apart < 5
