"""Rigid (similarity) fitting and rotation helpers.

Head pose is the similarity transform that best maps the canonical face onto the observed
landmarks; everything left over is expression (plus identity shape).
"""

from __future__ import annotations

import numpy as np


def fit_similarity(
    src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted Umeyama fit of ``dst ≈ s * R @ src + t`` for (N, D) point sets.

    Returns ``(s, R, t)`` with ``R`` a proper rotation (det +1).
    """
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    mu_s = w @ src
    mu_d = w @ dst
    a = src - mu_s
    b = dst - mu_d
    cov = (b * w[:, None]).T @ a
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(len(sig))
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1.0
    rot = u @ np.diag(d) @ vt
    var_s = float(w @ (a * a).sum(axis=1))
    scale = float((sig * d).sum() / var_s)
    return scale, rot, mu_d - scale * rot @ mu_s


def robust_fit_similarity(
    src: np.ndarray, dst: np.ndarray, weights: np.ndarray, iterations: int = 3
) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity fit re-weighted with a Huber-like rule so that a few outlying landmarks
    (a landmark model's mistake, an unusual expression) cannot tilt the head."""
    w = weights.astype(np.float64)
    for _ in range(iterations):
        s, rot, t = fit_similarity(src, dst, w)
        residual = np.linalg.norm(dst - (s * src @ rot.T + t), axis=1)
        scale = 1.4826 * np.median(residual[weights > 0]) + 1e-9
        w = weights * np.minimum(1.0, 2.0 * scale / (residual + 1e-9))
    return fit_similarity(src, dst, w)


def rotation_to_euler(rot: np.ndarray) -> tuple[float, float, float]:
    """(pitch, yaw, roll) in degrees for ``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)`` in image axes
    (x right, y down, z away from the camera); the inverse of :func:`euler_to_rotation`."""
    yaw = np.degrees(np.arcsin(np.clip(-rot[2, 0], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(rot[2, 1], rot[2, 2]))
    roll = np.degrees(np.arctan2(rot[1, 0], rot[0, 0]))
    return float(pitch), float(yaw), float(roll)


def euler_to_rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """Inverse of :func:`rotation_to_euler` (degrees in, 3x3 rotation out)."""
    p, y, r = np.radians([pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def rotation_angle(rot: np.ndarray) -> float:
    """The angle, in radians, that ``rot`` turns about its axis: from its cosine (the trace)
    and its sine (the skew part) together, since the cosine alone loses small angles (a
    float32 rotation's rounding reads as a hundredth of a degree through ``arccos``)."""
    sine = np.linalg.norm([rot[2, 1] - rot[1, 2], rot[0, 2] - rot[2, 0], rot[1, 0] - rot[0, 1]])
    return float(np.arctan2(sine / 2.0, (np.trace(rot) - 1.0) / 2.0))


def rotation_power(rot: np.ndarray, k: float) -> np.ndarray:
    """``rot`` raised to a real power: the same axis, ``k`` times the angle (Rodrigues)."""
    angle = rotation_angle(rot)
    if angle < 1e-8:
        return np.eye(3)
    axis = np.array([rot[2, 1] - rot[1, 2], rot[0, 2] - rot[2, 0], rot[1, 0] - rot[0, 1]])
    norm = np.linalg.norm(axis)
    if norm < 1e-8:  # angle near pi: take the axis from the symmetric part
        axis = np.linalg.eigh((rot + np.eye(3)) / 2.0)[1][:, -1]
    else:
        axis = axis / norm
    kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    theta = k * angle
    return np.eye(3) + np.sin(theta) * kx + (1 - np.cos(theta)) * kx @ kx
