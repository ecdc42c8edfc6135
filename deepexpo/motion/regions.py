"""The regions a motion can be restricted to (``MotionOptions.region``), declared once for every
engine: whether a region drives the head pose, and which facial features' expression it drives.
Each engine turns the features into its own mask: the warp engine into soft weights over the
landmarks (:attr:`CanonicalFace.feature_masks`), the neural engine into rows of its implicit
keypoints (:data:`deepexpo.neural.keypoints.FEATURE_ROWS`). A new region made of known features
is one line here; a new feature is this line plus its geometry in each representation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ..face.canonical import canonical_face


@dataclass(frozen=True)
class Region:
    name: str
    drives_pose: bool
    #: The features whose expression is driven: ``None`` the whole face, ``()`` none.
    features: tuple[str, ...] | None

    def drives(self, feature: str) -> bool:
        """Whether the region drives ``feature``'s expression."""
        return self.features is None or feature in self.features


_REGIONS = {region.name: region for region in (
    Region("all", drives_pose=True, features=None),
    Region("expression", drives_pose=False, features=None),
    Region("pose", drives_pose=True, features=()),
    Region("eyes", drives_pose=False, features=("eyes",)),
    Region("lips", drives_pose=False, features=("lips",)),
)}
#: The region names, as users choose them.
REGIONS = tuple(_REGIONS)


def get_region(name: str) -> Region:
    """The region called ``name`` (``MotionOptions`` has checked it is one)."""
    return _REGIONS[name]


@cache
def landmark_weights(name: str) -> np.ndarray:
    """(478,) soft weights in [0, 1] of how far each landmark's expression is driven."""
    canon, features = canonical_face(), get_region(name).features
    if features is None:
        return np.ones(len(canon.points))
    weights = np.zeros(len(canon.points))
    for feature in features:
        weights = np.maximum(weights, canon.feature_masks[feature])
    return weights
