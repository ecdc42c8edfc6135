"""Where a turned head's outline goes.

A head is round: when it turns, its features move across it and the far cheek compresses
against its outline, while the outline itself (the skin against the background) stays nearly
where it was. The face oval's landmarks lie on that outline in a photo, so a warp that moved
them with the surface (projected in 3D, the near ones inwards, the far ones behind the head)
would drag the outline with the features: a turn that reads as half its size, and a far cheek
stretched into the background when a turned head turns back. Instead the outline is carried
from the source's silhouette to the target's: the silhouettes of one ellipsoid (the head, fit to
the canonical face oval) in the two poses, matched by the map between their ellipses that turns
as the head does in the image plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .state import HeadPose


@dataclass(frozen=True)
class HeadShape:
    """An ellipsoid in the canonical frame: the head whose silhouette the outline follows."""

    centre: np.ndarray  # (3,)
    axes: np.ndarray  # (3,) semi-axes along canonical x, y, z

    def _ellipse(self, pose: HeadPose) -> tuple[np.ndarray, np.ndarray]:
        """The silhouette in the image under ``pose`` (orthographic): its centre and the
        symmetric square root of its shape (the ellipse is ``centre + L u``, ``|u| = 1``)."""
        projection = pose.scale * pose.rotation[:2] * self.axes  # (2, 3)
        values, vectors = np.linalg.eigh(projection @ projection.T)
        root = vectors @ np.diag(np.sqrt(np.maximum(values, 1e-12))) @ vectors.T
        return pose.apply(self.centre[None])[0, :2], root

    def outline_map(self, source: HeadPose, target: HeadPose
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(c_s, c_t, K)``: image points ``p`` on or around the source's silhouette go to
        ``c_t + K (p - c_s)`` on or around the target's. Of the maps between the two ellipses,
        the one nearest how the head's surface turns in the image (a roll turns the outline
        with it; a yaw or a nod leaves it in place, as wide as the head is deep)."""
        c_s, l_s = self._ellipse(source)
        c_t, l_t = self._ellipse(target)
        surface = (target.scale * target.rotation[:2]) @ np.linalg.pinv(
            source.scale * source.rotation[:2])
        u, _, vt = np.linalg.svd(np.linalg.solve(l_t, surface @ l_s))
        turn = u @ vt
        if np.linalg.det(turn) < 0:
            u[:, -1] *= -1
            turn = u @ vt
        return c_s, c_t, l_t @ turn @ np.linalg.inv(l_s)

    def move(self, xy: np.ndarray, source: HeadPose, target: HeadPose) -> np.ndarray:
        """(N, 2) image points on or around the source's silhouette, where the target's puts
        them."""
        c_s, c_t, k = self.outline_map(source, target)
        return c_t + (xy - c_s) @ k.T

    def depth(self, pose: HeadPose) -> float:
        """The head centre's distance from the camera under ``pose``: behind the face."""
        return float(pose.apply(self.centre[None])[0, 2])


def inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) whether each of ``points`` (N, 2) lies inside the closed ``polygon`` (M, 2)
    (even-odd rule)."""
    a, b = polygon, np.roll(polygon, -1, axis=0)
    x, y = points[:, 0, None], points[:, 1, None]
    crosses = (a[:, 1] > y) != (b[:, 1] > y)
    height = np.where(b[:, 1] != a[:, 1], b[:, 1] - a[:, 1], 1.0)
    at = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / height
    return (crosses & (x < at)).sum(axis=1) % 2 == 1


def distance_to_edges(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) each of ``points``' distance from the closed ``polygon``'s edges."""
    a, b = polygon, np.roll(polygon, -1, axis=0)
    edge = b - a
    along = np.clip(((points[:, None] - a) * edge).sum(axis=2)
                    / np.maximum((edge**2).sum(axis=1), 1e-12), 0.0, 1.0)
    return np.linalg.norm(points[:, None] - (a + along[..., None] * edge), axis=2).min(axis=1)


def distance_outside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) each of ``points`` (N, 2)'s distance from the closed ``polygon`` (M, 2); 0 inside
    it."""
    return np.where(inside(points, polygon), 0.0, distance_to_edges(points, polygon))
