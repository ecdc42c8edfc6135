"""Measurements of a face from its landmarks, shared by the engines, the tests and the
benchmarks: how open the mouth and the eyes are."""

from __future__ import annotations

import numpy as np

from .canonical import canonical_face
from .topology import TOPOLOGY


def mouth_width(xy: np.ndarray) -> float:
    """The distance between the mouth's corners (in ``xy``'s units)."""
    corners = canonical_face().mouth_corners
    return float(np.linalg.norm(xy[corners[0], :2] - xy[corners[1], :2]))


def mouth_opening(xy: np.ndarray) -> float:
    """Mean gap between the inner lips as a fraction of the mouth width (0 when closed)."""
    canon = canonical_face()
    upper, lower = canon.inner_lip_upper, canon.inner_lip_lower
    gap = np.linalg.norm(xy[lower, :2] - xy[upper, :2], axis=1).mean()
    return float(gap / (mouth_width(xy) + 1e-9))


def eye_ratios(xy: np.ndarray) -> tuple[float, float]:
    """Opening over width of the subject's left and right eye, from our landmarks."""
    out = []
    for eye in (TOPOLOGY.left_eye, TOPOLOGY.right_eye):
        pts = xy[eye]
        width = np.ptp(pts[:, 0]) + 1e-6
        out.append(float(np.ptp(pts[:, 1]) / width))
    return out[0], out[1]


def eye_openings(xy: np.ndarray) -> tuple[float, float]:
    """Each eye's (the subject's left, then right) contour height across the line through its
    corners over its length along it: :func:`eye_ratios` reads a slanted eye's slope as
    opening (a tilted head's shut eye reads half open)."""
    corners = canonical_face().eye_corners
    out = []
    for side, eye in (("left", TOPOLOGY.left_eye), ("right", TOPOLOGY.right_eye)):
        a, b = xy[corners[side], :2]
        along = (b - a) / (np.linalg.norm(b - a) + 1e-9)
        pts = xy[eye, :2]
        out.append(float(np.ptp(pts @ [-along[1], along[0]]) / (np.ptp(pts @ along) + 1e-9)))
    return out[0], out[1]
