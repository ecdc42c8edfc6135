"""Index sets of the 478-point MediaPipe face mesh, derived from MediaPipe's own connection lists.

Deriving them (rather than copying index tables) keeps one source of truth: the mesh topology
that the landmark model was trained with.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .mediapipe_solutions import face_mesh_connections as _conn

NUM_LANDMARKS = 478
RIGHT_IRIS_CENTER = 468  # subject's right (image left in a frontal photo)
LEFT_IRIS_CENTER = 473


def _indices(edges: frozenset) -> np.ndarray:
    return np.array(sorted({i for edge in edges for i in edge}), dtype=np.int64)


def _loops(edges: frozenset) -> list[list[int]]:
    """Split a set of edges that forms disjoint closed loops into ordered loops."""
    neighbours: dict[int, list[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    seen: set[int] = set()
    loops = []
    for start in sorted(neighbours):
        if start in seen:
            continue
        loop, prev, cur = [start], None, start
        seen.add(start)
        while True:
            nxt = next((n for n in neighbours[cur] if n != prev and n not in seen), None)
            if nxt is None:
                break
            loop.append(nxt)
            seen.add(nxt)
            prev, cur = cur, nxt
        loops.append(loop)
    return loops


LIPS = _indices(_conn.FACEMESH_LIPS)
RIGHT_EYE = _indices(_conn.FACEMESH_RIGHT_EYE)
LEFT_EYE = _indices(_conn.FACEMESH_LEFT_EYE)
RIGHT_EYEBROW = _indices(_conn.FACEMESH_RIGHT_EYEBROW)
LEFT_EYEBROW = _indices(_conn.FACEMESH_LEFT_EYEBROW)
RIGHT_IRIS = np.r_[RIGHT_IRIS_CENTER, _indices(_conn.FACEMESH_RIGHT_IRIS)]
LEFT_IRIS = np.r_[LEFT_IRIS_CENTER, _indices(_conn.FACEMESH_LEFT_IRIS)]
FACE_OVAL_LOOP = np.array(_loops(_conn.FACEMESH_FACE_OVAL)[0], dtype=np.int64)
RIGHT_EYE_LOOP = np.array(_loops(_conn.FACEMESH_RIGHT_EYE)[0], dtype=np.int64)
LEFT_EYE_LOOP = np.array(_loops(_conn.FACEMESH_LEFT_EYE)[0], dtype=np.int64)
EYES = np.r_[RIGHT_EYE, LEFT_EYE, RIGHT_IRIS, LEFT_IRIS]
BROWS = np.r_[RIGHT_EYEBROW, LEFT_EYEBROW]


@cache
def tessellation_triangles() -> np.ndarray:
    """Triangles (T, 3) of the face mesh, recovered as the 3-cliques of its edge graph."""
    adjacency: dict[int, set[int]] = {}
    for a, b in _conn.FACEMESH_TESSELATION:
        adjacency.setdefault(a, set()).add(b)
        adjacency.setdefault(b, set()).add(a)
    triangles = {
        tuple(sorted((a, b, c)))
        for a, nbrs in adjacency.items()
        for b in nbrs
        for c in nbrs & adjacency[b]
    }
    return np.array(sorted(triangles), dtype=np.int64)


def lip_loops(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ordered (outer, inner) lip contours, told apart by the area they enclose in ``points``."""
    loops = [np.array(loop, dtype=np.int64) for loop in _loops(_conn.FACEMESH_LIPS)]

    def area(loop: np.ndarray) -> float:
        x, y = points[loop, 0], points[loop, 1]
        return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))

    outer, inner = sorted(loops, key=area, reverse=True)
    return outer, inner
