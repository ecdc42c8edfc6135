"""The picture's grain laid over what is drawn smooth (deepexpo/render/texture.py)."""

from __future__ import annotations

from functools import partial

import cv2
import numpy as np

from deepexpo.geometry.boxes import PixelBox
from deepexpo.render.texture import (
    GRAIN_BLOCK,
    GRAIN_BLUR,
    GRAIN_LIMIT,
    calm_donors,
    grain_at,
    grain_strength_at,
    scattered_grain,
)


def test_scattered_grain_keeps_a_regions_specks_not_its_lines():
    """Grain read from skin crossed by long vertical lines (a lip's lines, wrinkles) over
    noise: laid elsewhere, grey as the skin, it runs no way more than another (its changes
    across columns and down rows within 0.8 to 1.25 of each other, 0.99; the skin's, 10
    times), and a block's length down it is unrelated to what lies above (correlation under
    0.1, 0.02; along the skin's lines, 0.88)."""
    rng = np.random.default_rng(1)
    light = 128.0 + 4.0 * rng.standard_normal((80, 80))
    light[:, ::6] -= 30.0
    image = np.repeat(np.clip(light, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    ys, xs = np.mgrid[10:60, 10:60]
    grain = scattered_grain(image, np.c_[xs.ravel(), ys.ravel()], (96, 96), (5, 7))
    assert np.array_equal(grain[..., 0], grain[..., 2])  # grey stays grey
    g = grain[..., 0]
    across, down = np.diff(g, axis=1), np.diff(g, axis=0)
    assert 0.8 < float((across**2).mean() / (down**2).mean()) < 1.25
    lag = 2 * GRAIN_BLOCK
    assert abs(np.corrcoef(g[:-lag].ravel(), g[lag:].ravel())[0, 1]) < 0.1
    skin = image[..., 0].astype(float)[10:70, 10:70]
    assert np.corrcoef(skin[:-lag].ravel(), skin[lag:].ravel())[0, 1] > 0.8
    assert float((np.diff(skin, axis=1) ** 2).mean() / (np.diff(skin, axis=0) ** 2).mean()) > 5


def test_grain_from_calm_donors_scatters_no_piece_of_an_edge():
    """A smooth drawing's paper (noise of 2 levels) with a few bright specks on it (an eye's
    highlight, a stroke's end): scattered from its calm donors, the grain stays within 4
    times the paper's noise (6.3), where read from every pixel the specks' pieces came out as
    pale squares (17)."""
    rng = np.random.default_rng(2)
    light = 200.0 + 2.0 * rng.standard_normal((80, 80))
    for y, x in rng.integers(5, 75, (6, 2)):
        light[y:y + 2, x:x + 2] = 255.0
    image = np.repeat(np.clip(light, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    ys, xs = np.mgrid[0:77, 0:77]
    every = scattered_grain(image, np.c_[xs.ravel(), ys.ravel()], (96, 96), (0, 0))
    calm = scattered_grain(image, calm_donors(image, PixelBox(0, 0, 80, 80)), (96, 96), (0, 0))
    assert np.abs(every).max() > 12.0
    assert np.abs(calm).max() < 8.0 and calm.std() > 1.5  # the paper's grain, still there


def test_grain_without_mottling_blurs_the_picture_once(monkeypatch):
    """Grain with no mottling (``mottle`` no coarser than GRAIN_BLUR: scattered grain, a
    lip's fold filled in, every frame of an opened mouth) is the picture's fine detail alone:
    read with one blur (its mottling's part, a blur less the same blur, was zeros blurred,
    read and measured again); mottling asked for adds the picture's blotches to it."""
    rng = np.random.default_rng(3)
    light = 128.0 + 3.0 * rng.standard_normal((60, 60)) \
        + cv2.GaussianBlur(20.0 * rng.standard_normal((60, 60)), (0, 0), 4.0)
    image = np.repeat(np.clip(light, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    ys, xs = np.mgrid[15:45, 15:45].astype(np.float32)
    blurs = []
    real = cv2.GaussianBlur

    def counted(*args, **kwargs):
        blurs.append(args[2])
        return real(*args, **kwargs)
    monkeypatch.setattr(cv2, "GaussianBlur", counted)
    plain = grain_at(image, xs, ys, 0.0)
    assert blurs == [GRAIN_BLUR]
    mottled = grain_at(image, xs, ys, 3 * GRAIN_BLUR)
    assert blurs == [GRAIN_BLUR, GRAIN_BLUR, 3 * GRAIN_BLUR]
    assert np.abs(mottled - plain).mean() > 0.1  # (0.32)


def test_grain_is_read_at_a_long_flat_list_of_points_as_on_a_grid():
    """The skin round a large photo's eye is read as one flat list of its pixels: over 32767
    of them made ``cv2.remap`` fail (a blink on a 2048 px photo); read so, they read as the
    same pixels laid out as a grid do."""
    rng = np.random.default_rng(0)
    image = rng.integers(90, 160, (260, 260, 3)).astype(np.uint8)
    ys, xs = np.mgrid[20:240, 20:240].astype(np.float32)
    assert xs.size > 32767
    for read in (grain_strength_at, partial(grain_at, limit=GRAIN_LIMIT, mottle=4.0)):
        on_grid = read(image, xs, ys)
        flat = read(image, xs.ravel(), ys.ravel())
        assert flat.shape == (xs.size, 3)
        np.testing.assert_allclose(flat, on_grid.reshape(-1, 3), atol=1e-4)
