"""The warp engine as a service to engines that draw with networks: it makes a face neutral and
frontal, and renders hand-set edits, which such an engine then measures with its own networks
(the neural engine: a single driving image's reference; expression edits).

A photo's warp source is prepared when it is first edited, once, rather than with every source:
a source video's frames are prepared for driving, never edited, and so never pay for it.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from ..config import WARP
from ..face.landmarks import FaceLandmarks
from ..face.territory import Territory
from ..motion.controls import ExpressionEdit
from .warp_engine import WarpEngine, WarpSource


class RetouchPhoto:
    """A photo's face that may be edited by the warp engine."""

    def __init__(self, engine: WarpEngine, image: np.ndarray, face: FaceLandmarks,
                 territory: Territory | None):
        self._engine, self.image, self.face, self.territory = engine, image, face, territory
        self._source: WarpSource | None = None
        self._lock = threading.Lock()  # the app's sliders edit one photo from several requests

    def edit(self, edit: ExpressionEdit) -> np.ndarray:
        with self._lock:
            if self._source is None:
                self._source = self._engine.prepare_source(self.image, self.face, self.territory)
        return self._engine.edit(self._source, edit)


class WarpRetouch:
    def __init__(self, engine: WarpEngine | None = None):
        # (An eye shut in the photo is opened: the networks redraw it, WarpConfig.eyes_as_shown.)
        self.engine = engine or WarpEngine(replace(WARP, eyes_as_shown=False))

    def photo(self, image: np.ndarray, face: FaceLandmarks,
              territory: Territory | None = None) -> RetouchPhoto:
        return RetouchPhoto(self.engine, image, face, territory)

    def neutral_frontal(self, image: np.ndarray, face: FaceLandmarks) -> np.ndarray:
        return self.engine.neutral_frontal(image, face)
