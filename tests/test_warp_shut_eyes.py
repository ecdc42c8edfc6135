"""An eye shut in the source, as the warp engine draws it: it has no eyeball behind the lid to
show, so it opens only as far as the source shows it (the motion still opens it, for the neural
engine), while an eye it shows can still blink shut and open back to its own gap."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from deepexpo.engines.warp_engine import WarpEngine
from deepexpo.engines.warp_retouch import WarpRetouch
from deepexpo.evaluation.metrics import dark_fragments
from deepexpo.face.canonical import canonical_face
from deepexpo.face.measure import eye_openings
from deepexpo.motion.compose import MotionOptions
from deepexpo.motion.controls import OWN_EYE_OPEN, ExpressionControls, ExpressionEdit
from deepexpo.motion.eyelids import eyelids, follow_closure, opened_as_shown


@pytest.fixture(scope="module")
def shut_still(astronaut, landmarker) -> np.ndarray:
    """The astronaut with her eyes shut by the warp engine's blink: a still caught blinking."""
    engine = WarpEngine()
    return engine.edit(engine.prepare_source(astronaut, landmarker.detect(astronaut)),
                       ExpressionEdit(ExpressionControls(blink=1.0)))


@pytest.mark.parametrize("emotion", ["neutral", "happy"])
def test_an_emotion_keeps_a_shut_eye_shut_in_the_warp(astronaut, shut_still, landmarker,
                                                      emotion):
    """An emotion on a shut-eyed still leaves the eyes shut, read by MediaPipe on the output
    (under a third of the open eye's gap), with no dark fragments the still does not have.
    Opened, the lid's lash line was drawn as a zig-zag of dark spikes (0.46 of open on s42)."""
    engine = WarpEngine()
    face = landmarker.detect(shut_still)
    out = engine.edit(engine.prepare_source(shut_still, face), ExpressionEdit.emotion(emotion))
    own = np.mean(eye_openings(landmarker.detect(astronaut).xy))
    assert np.mean(eye_openings(landmarker.detect(out).xy)) < 0.33 * own
    eyes = face.xy[np.r_[tuple(np.r_[lid.outline, lid.lid] for lid in eyelids())]]
    (x0, y0), (x1, y1) = eyes.min(0).astype(int) - 3, eyes.max(0).astype(int) + 4
    box = (slice(y0, y1), slice(x0, x1))
    width = float(np.ptp(face.xy[[33, 133], 0]))
    assert dark_fragments(out, box, width) <= 1.5 * dark_fragments(shut_still, box, width) + 5


def test_the_warp_opens_an_eye_only_as_far_as_the_source_shows_it(astronaut, measure):
    """In motion terms: a shut source eye keeps its own gap whatever the target asks; a
    half-open one closes fully and opens back to its own gap; an open one is left alone."""
    motion = measure.motion(astronaut)
    full = eyelids()[0].opening(canonical_face().points)
    blink = ExpressionEdit(ExpressionControls(blink=1.0))
    shut = blink.apply(motion)
    half = ExpressionEdit(ExpressionControls(blink=0.5)).apply(motion)
    opened = ExpressionEdit.emotion("neutral").apply(shut)
    kept, held = opened_as_shown(opened, shut, OWN_EYE_OPEN)
    assert held == [0, 1]
    for lid in eyelids():
        assert lid.opening(opened.canonical) > 0.8 * full  # the motion opens it
        assert lid.opening(kept.canonical) == pytest.approx(lid.opening(shut.canonical),
                                                            abs=0.02 * full)
        closed, _ = opened_as_shown(blink.apply(half), half, OWN_EYE_OPEN)
        assert lid.opening(closed.canonical) < 0.1 * lid.opening(half.canonical)
        back, _ = opened_as_shown(half, half, OWN_EYE_OPEN)
        assert lid.opening(back.canonical) == pytest.approx(lid.opening(half.canonical))
    same, held = opened_as_shown(shut, motion, OWN_EYE_OPEN)
    assert held == [] and np.array_equal(same.canonical, shut.canonical)


def test_a_driver_leaves_crossed_shut_lids_where_they_are(astronaut, measure):
    """A source eye shut with its margins crossed (a gap just under nothing: d0's frame 66)
    driven by an open-eyed face keeps its lids near where they are. Its gap curve was scaled
    to the gap wanted by dividing by next to nothing, and the lid was thrown into the brow."""
    motion = measure.motion(astronaut)
    full = eyelids()[0].opening(canonical_face().points)
    offset = sum(lid.opening_to(motion.canonical, np.full(len(lid.upper), -0.03 * full))
                 for lid in eyelids())
    crossed = replace(motion, canonical=motion.canonical + offset,
                      expression=motion.expression + offset)
    out = follow_closure(crossed, crossed, motion, motion, MotionOptions(), 0.12)
    for lid in eyelids():
        assert abs(lid.opening(out.canonical)) < 0.1 * full
        assert np.abs(out.canonical - crossed.canonical).max() < 0.1 * full


def test_the_neural_engines_retouch_still_opens_a_shut_eye(astronaut, shut_still, landmarker):
    """The neural engine's expression edits are the warp's picture redrawn by its networks:
    its retouch still opens a shut eye for them to redraw open."""
    face = landmarker.detect(shut_still)
    out = WarpRetouch().photo(shut_still, face).edit(ExpressionEdit.emotion("neutral"))
    own = np.mean(eye_openings(landmarker.detect(astronaut).xy))
    assert np.mean(eye_openings(landmarker.detect(out).xy)) > 0.4 * own
