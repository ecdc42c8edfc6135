"""Strong expressions in the warp engine, read back with MediaPipe on the output: a happy face
raises its cheeks and lower lids (a Duchenne smile), a blink closes even small painted eyes
without dark fragments, a turned head turns back through frontal."""

from __future__ import annotations

import numpy as np

from deepexpo.engines.warp_engine import WarpEngine
from deepexpo.motion.controls import ExpressionEdit
from deepexpo.motion.eyelids import eyelids

CHEEKS = [50, 280, 205, 425]


def _eye_corners_y(canonical: np.ndarray) -> float:
    return float(canonical[[33, 133, 362, 263], 1].mean())


def test_happy_raises_the_cheeks_and_lifts_the_lower_lids(astronaut, hopper, landmarker,
                                                          measure):
    engine = WarpEngine()
    lids = []
    for image in (hopper, astronaut):
        before = measure.motion(image).canonical
        out = engine.edit(engine.prepare_source(image, landmarker.detect(image)),
                          ExpressionEdit.emotion("happy"))
        after = measure.motion(out).canonical
        # Heights above the eye corners, in outer-eye-corner distances (y points down).
        cheek = (before[CHEEKS, 1] - _eye_corners_y(before)).mean() \
            - (after[CHEEKS, 1] - _eye_corners_y(after)).mean()
        lower = np.r_[tuple(lid.lower for lid in eyelids())]
        lid = (before[lower, 1] - _eye_corners_y(before)).mean() \
            - (after[lower, 1] - _eye_corners_y(after)).mean()
        assert cheek > 0.01
        lids.append(lid)
    # MediaPipe reads a lower lid pushed up over the iris only in part (a third of it).
    assert np.mean(lids) > 0.005
