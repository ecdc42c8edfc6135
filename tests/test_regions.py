"""Regions are declared once: every engine's mask comes from the same declaration."""

from __future__ import annotations

import numpy as np
import pytest

from deepexpo.motion.compose import MotionOptions
from deepexpo.motion.regions import REGIONS, get_region, landmark_weights
from deepexpo.neural.keypoints import EYE_ROWS, LIP_ROWS, expression_mask


@pytest.mark.parametrize("name", REGIONS)
def test_every_region_has_a_mask_in_every_engine(name):
    weights = landmark_weights(name)
    rows = expression_mask(MotionOptions(region=name), 21)[:, 0].nonzero().flatten().tolist()
    assert weights.shape == (478,) and 0.0 <= weights.min() <= weights.max() <= 1.0
    features = get_region(name).features
    if features is None:  # the whole face
        assert weights.min() == 1.0 and rows == list(range(21))
    elif not features:  # the pose only
        assert weights.max() == 0.0 and rows == []
    else:
        assert 0.0 < weights.mean() < 0.5
        assert rows == sorted({"eyes": EYE_ROWS, "lips": LIP_ROWS}[features[0]])
    assert MotionOptions(region=name).drives_pose == (name in ("all", "pose"))


def test_eyes_and_lips_weigh_their_own_landmarks():
    from deepexpo.face.topology import TOPOLOGY

    eyes, lips = landmark_weights("eyes"), landmark_weights("lips")
    assert np.all(eyes[TOPOLOGY.eyes] == 1.0) and np.all(lips[TOPOLOGY.lips] == 1.0)
    assert eyes[TOPOLOGY.lips].max() < 0.01 and lips[TOPOLOGY.eyes].max() < 0.01
