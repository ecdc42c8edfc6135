"""The semantic embedding: a face's dynamic semantics as one vector, from the same disentangled
motion the transfer engines use (expression offsets of the features in the canonical frame,
and the head's rotation)."""

from __future__ import annotations

import numpy as np

from ..face.topology import TOPOLOGY
from ..motion.state import FaceMotion

#: Landmarks whose expression offsets describe the expression: lips, eyelids, brows.
FEATURES = np.r_[TOPOLOGY.lips, TOPOLOGY.right_eye, TOPOLOGY.left_eye, TOPOLOGY.brows]
EXPRESSION_UNIT = 0.05  # canonical units (eye distances) per unit of the vector
POSE_UNIT = 30.0  # degrees per unit
SEMANTIC_DIM = 2 * len(FEATURES) + 3


def semantic_vector(motion: FaceMotion) -> np.ndarray:
    """(SEMANTIC_DIM,) float32: feature offsets (x, y) from the neutral face, then pitch, yaw,
    roll; all about unit scale."""
    expression = motion.expression[FEATURES, :2].reshape(-1) / EXPRESSION_UNIT
    pose = np.asarray(motion.pose.euler) / POSE_UNIT
    return np.r_[expression, pose].astype(np.float32)
