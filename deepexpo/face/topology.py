"""A face mesh's topology: how many landmarks it has and which of them are the lips, eyes, brows.

A :class:`FaceTopology` is what a landmarker declares (``Landmarker.topology``), so another
detector with another mesh states its own. :data:`MEDIAPIPE_478` is the 478-point MediaPipe
face mesh, derived from MediaPipe's own connection lists (rather than copied index tables) so
there is one source of truth: the mesh the landmark model was trained with. :data:`TOPOLOGY` is
the one the rest of the program reads today.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

Edges = frozenset[tuple[int, int]]


def _indices(edges: Edges) -> np.ndarray:
    return np.array(sorted({i for edge in edges for i in edge}), dtype=np.int64)


def _loops(edges: Edges) -> list[list[int]]:
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


@dataclass(frozen=True, eq=False)
class FaceTopology:
    """The named index sets of one face mesh. Sides are the subject's (``right`` is image left
    in a frontal photo); ``*_loop`` sets are ordered contours, the others sorted indices."""

    num_landmarks: int
    lips: np.ndarray
    right_eye: np.ndarray
    left_eye: np.ndarray
    right_eyebrow: np.ndarray
    left_eyebrow: np.ndarray
    right_iris: np.ndarray  # centre first
    left_iris: np.ndarray  # centre first
    right_iris_center: int
    left_iris_center: int
    face_oval_loop: np.ndarray
    right_eye_loop: np.ndarray
    left_eye_loop: np.ndarray
    lip_contours: tuple[np.ndarray, np.ndarray]  # the two lip loops, unordered
    nose: np.ndarray  # the nose's bridge, tip, wings and base
    tessellation: Edges

    @property
    def eyes(self) -> np.ndarray:
        return np.r_[self.right_eye, self.left_eye, self.right_iris, self.left_iris]

    @property
    def brows(self) -> np.ndarray:
        return np.r_[self.right_eyebrow, self.left_eyebrow]

    @cached_property
    def triangles(self) -> np.ndarray:
        """Triangles (T, 3) of the mesh, recovered as the 3-cliques of its edge graph."""
        adjacency: dict[int, set[int]] = {}
        for a, b in self.tessellation:
            adjacency.setdefault(a, set()).add(b)
            adjacency.setdefault(b, set()).add(a)
        triangles = {
            tuple(sorted((a, b, c)))
            for a, nbrs in adjacency.items()
            for b in nbrs
            for c in nbrs & adjacency[b]
        }
        return np.array(sorted(triangles), dtype=np.int64)

    def lip_loops(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ordered (outer, inner) lip contours, told apart by the area they enclose in ``points``."""

        def area(loop: np.ndarray) -> float:
            x, y = points[loop, 0], points[loop, 1]
            return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))

        outer, inner = sorted(self.lip_contours, key=area, reverse=True)
        return outer, inner


def _mediapipe_478() -> FaceTopology:
    from .mediapipe_solutions import face_mesh_connections as conn

    right_iris_center, left_iris_center = 468, 473
    lip_loops = [np.array(loop, dtype=np.int64) for loop in _loops(conn.FACEMESH_LIPS)]
    return FaceTopology(
        num_landmarks=478,
        lips=_indices(conn.FACEMESH_LIPS),
        right_eye=_indices(conn.FACEMESH_RIGHT_EYE),
        left_eye=_indices(conn.FACEMESH_LEFT_EYE),
        right_eyebrow=_indices(conn.FACEMESH_RIGHT_EYEBROW),
        left_eyebrow=_indices(conn.FACEMESH_LEFT_EYEBROW),
        right_iris=np.r_[right_iris_center, _indices(conn.FACEMESH_RIGHT_IRIS)],
        left_iris=np.r_[left_iris_center, _indices(conn.FACEMESH_LEFT_IRIS)],
        right_iris_center=right_iris_center,
        left_iris_center=left_iris_center,
        face_oval_loop=np.array(_loops(conn.FACEMESH_FACE_OVAL)[0], dtype=np.int64),
        right_eye_loop=np.array(_loops(conn.FACEMESH_RIGHT_EYE)[0], dtype=np.int64),
        left_eye_loop=np.array(_loops(conn.FACEMESH_LEFT_EYE)[0], dtype=np.int64),
        lip_contours=(lip_loops[0], lip_loops[1]),
        nose=_indices(conn.FACEMESH_NOSE),
        tessellation=frozenset(conn.FACEMESH_TESSELATION),
    )


#: MediaPipe FaceMesh with refined irises.
MEDIAPIPE_478 = _mediapipe_478()
#: The topology the program's geometry is written for (the registered landmarkers' one).
TOPOLOGY = MEDIAPIPE_478
