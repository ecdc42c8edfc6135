"""The iris is carried inside its eye without folding the map."""

import numpy as np

from deepexpo.geometry.boxes import PixelBox
from deepexpo.render.iris import carry_iris


def _eye(width: float = 60.0, height: float = 24.0, centre=(100.0, 50.0)) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    return np.c_[centre[0] + width / 2 * np.cos(angle), centre[1] + height / 2 * np.sin(angle)]


def _identity(region: PixelBox) -> np.ndarray:
    ys, xs = np.mgrid[region.y0:region.y1, region.x0:region.x1].astype(np.float32)
    return np.dstack([xs, ys])


def test_the_iris_centre_samples_the_source_iris_and_the_corners_stay():
    region = PixelBox(40, 20, 160, 80)
    source_xy = _identity(region)
    carry_iris(source_xy, region, _eye(), np.array([106.0, 50.0]), np.array([100.0, 50.0]), 9.0)

    np.testing.assert_allclose(source_xy[50 - 20, 106 - 40], [100.0, 50.0], atol=1e-4)
    np.testing.assert_allclose(source_xy[50 - 20, 98 - 40], [92.0, 50.0], atol=1e-4)  # the disc
    identity = _identity(region)
    for x in (70, 130):  # the corners, and everything outside the eye
        np.testing.assert_allclose(source_xy[50 - 20, x - 40], identity[50 - 20, x - 40])
    np.testing.assert_array_equal(source_xy[:12], identity[:12])


def test_a_shift_too_far_for_the_white_of_the_eye_stops_short_of_folding():
    region = PixelBox(40, 20, 160, 80)
    source_xy = _identity(region)
    carry_iris(source_xy, region, _eye(), np.array([112.0, 50.0]), np.array([90.0, 50.0]), 9.0)

    row = source_xy[50 - 20, :, 0]
    assert np.all(np.diff(row) > 0.1)  # still in order: nothing shown twice or mirrored
    assert row[112 - 40] < 112.0 - 5  # but moved as far as it could


def test_an_iris_that_does_not_move_leaves_the_map_alone_even_in_a_corner():
    region = PixelBox(40, 20, 160, 80)
    for x in (100.0, 121.0):  # the middle, and further into the corner than a move may go
        source_xy = _identity(region)
        carry_iris(source_xy, region, _eye(), np.array([x, 50.0]), np.array([x, 50.0]), 9.0)
        np.testing.assert_allclose(source_xy, _identity(region), atol=1e-4)


def test_an_iris_sent_into_the_corner_stops_short_of_it():
    region = PixelBox(40, 20, 160, 80)
    source_xy = _identity(region)
    carry_iris(source_xy, region, _eye(), np.array([127.0, 50.0]), np.array([100.0, 50.0]), 9.0)
    row = source_xy[50 - 20, :, 0]
    stop = 130 - 9 - 0.3 * 9  # the corner, less the iris's radius and some white
    assert abs(row[round(stop) - 40] - 100.0) < 1.5  # the iris centre got there, no further
    assert np.all(np.diff(row) > 0)  # the white between it and the corner squeezed, not folded
    np.testing.assert_allclose(row[130 - 40:], np.arange(130, 160), atol=1e-4)
