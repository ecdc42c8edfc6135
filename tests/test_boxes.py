"""Pixel rectangles (geometry/boxes.py)."""

from __future__ import annotations

from deepexpo.geometry.boxes import PixelBox


def test_a_box_within_a_region_is_their_overlap():
    region = PixelBox(10, 20, 110, 220)
    assert PixelBox(0, 50, 60, 300).within(region) == PixelBox(10, 50, 60, 220)
    assert PixelBox(30, 40, 50, 60).within(region) == PixelBox(30, 40, 50, 60)
    apart = PixelBox(200, 0, 300, 10).within(region)
    assert min(apart.size) <= 0
