"""Where one face's rendering may change a photo that holds other faces too.

Driving one face must not drag another. Each pair of faces is split by a line across the gap
between them, placed by their sizes (a face twice as large gets twice the room); a face's
territory is its side of every such line. The engines keep their warp inside it and fade their
changes out before its edge, so the pixels beyond stay exactly as they were. Two faces so close
that the line would cut into one of them overlap: they cannot be kept apart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config import FACES, FaceSharing
from ..geometry.boxes import PixelBox
from .landmarks import FaceLandmarks
from .topology import TOPOLOGY

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Territory:
    """The points ``p`` with ``normals @ p <= limits``: one line per neighbouring face."""

    normals: np.ndarray  # (K, 2) unit vectors towards each neighbour
    limits: np.ndarray  # (K,)
    feather: float  # pixels inside the edge over which changes fade out

    def reach(self, centre: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """The distance from ``centre`` to the edge along each unit direction (inf: none)."""
        along = directions @ self.normals.T
        room = self.limits - self.normals @ centre
        with np.errstate(divide="ignore"):
            return np.where(along > 1e-9, room[None, :] / along, np.inf).min(axis=1)

    def mask(self, region: PixelBox) -> TerritoryMask:
        """The territory over one region of the image, worked out once for every rendering of
        the face to come."""
        xs = np.arange(region.x0, region.x1, dtype=np.float64)[None, :]
        ys = np.arange(region.y0, region.y1, dtype=np.float64)[:, None]
        depth = np.min([limit - normal[0] * xs - normal[1] * ys
                        for normal, limit in zip(self.normals, self.limits, strict=True)], axis=0)
        weight = np.clip(depth / self.feather, 0.0, 1.0)
        band = (weight > 0) & (weight < 1)
        return TerritoryMask(region, weight <= 0, np.nonzero(band), weight[band][:, None])


@dataclass(frozen=True)
class TerritoryMask:
    """Where, in one region, a face's renderings give way to the photo as it was."""

    region: PixelBox
    outside: np.ndarray  # (h, w) bool over the region: beyond the territory's edge
    band: tuple[np.ndarray, ...]  # (rows, columns) in the region where changes fade out
    weights: np.ndarray  # (n, 1) how much of the change stays at each band pixel

    def apply(self, original: np.ndarray, changed: np.ndarray) -> np.ndarray:
        """``changed``, in place: ``original`` exactly beyond the territory's edge, fading
        into the change over the band. Both images must agree outside the region."""
        out, before = changed[self.region.slices], original[self.region.slices]
        np.copyto(out, before, where=self.outside[..., None])
        blend = self.weights * out[self.band] + (1.0 - self.weights) * before[self.band]
        out[self.band] = np.round(blend).astype(out.dtype)
        return changed


@dataclass(frozen=True)
class _Disc:
    """A face as a round shape: its oval's centre and mean radius, and the oval itself."""

    centre: np.ndarray
    radius: float
    oval: np.ndarray

    @classmethod
    def of(cls, face: FaceLandmarks) -> _Disc:
        oval = face.xy[TOPOLOGY.face_oval_loop]
        centre = oval.mean(axis=0)
        return cls(centre, float(np.linalg.norm(oval - centre, axis=1).mean()), oval)

    def clearance(self, normal: np.ndarray, limit: float, config: FaceSharing) -> float:
        """How far the grown oval stays inside the line, less the feather band (< 0: overlap)."""
        grown = self.centre + config.clearance * (self.oval - self.centre)
        return float(limit - (grown @ normal).max()) - config.feather * self.radius


def _split(a: _Disc, b: _Disc) -> tuple[np.ndarray, float]:
    """The line between two faces, as ``a``'s side of it: ``normal @ p <= limit``."""
    gap = b.centre - a.centre
    distance = float(np.linalg.norm(gap)) + 1e-9
    normal = gap / distance
    return normal, float(normal @ a.centre + distance * a.radius / (a.radius + b.radius))


def territories(faces: Sequence[FaceLandmarks], chosen: Sequence[int], what: str,
                config: FaceSharing = FACES) -> dict[int, Territory | None]:
    """The territory of each chosen face (``None``: it has no neighbour to keep apart from).

    Of two chosen faces that overlap, the smaller is left as it is; a chosen face that overlaps
    one not chosen is driven without a line against it, which may move the other too. Both
    are said in a warning."""
    discs = [_Disc.of(face) for face in faces]
    lines = {(i, j): _split(discs[i], discs[j])
             for i in range(len(faces)) for j in range(len(faces)) if i != j}

    def overlap(i: int, j: int) -> bool:
        return min(discs[i].clearance(*lines[i, j], config),
                   discs[j].clearance(*lines[j, i], config)) < 0

    kept: list[int] = []
    for i in sorted(chosen, key=lambda i: -discs[i].radius):
        clash = next((j for j in kept if overlap(i, j)), None)
        if clash is None:
            kept.append(i)
        else:
            logger.warning("faces %d and %d in %s overlap; face %d, the smaller, is left as it "
                           "is (choose it alone to drive it)", clash, i, what, i)
    out: dict[int, Territory | None] = {}
    for i in sorted(kept):
        apart = []
        for j in range(len(faces)):
            if j == i:
                continue
            if j not in chosen and overlap(i, j):
                logger.warning("face %d in %s overlaps face %d; driving face %d may move it too",
                               j, what, i, i)
            elif j in kept or j not in chosen:
                apart.append(lines[i, j])
        out[i] = None if not apart else Territory(
            np.array([n for n, _ in apart]), np.array([limit for _, limit in apart]),
            config.feather * discs[i].radius)
    return out
