"""A tongue lying low in an opened mouth, seen from the front: where it lies and how lit it
is, one shape for a person's mouth (:mod:`.mouth`) and a placed face's (:mod:`.placed_mouth`),
each with its own proportions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..geometry.ramps import smoothstep


def linear_ramp(x: np.ndarray) -> np.ndarray:
    """0 up to ``x`` = 0, 1 from 1, straight between."""
    return np.clip(x, 0.0, 1.0)


@dataclass(frozen=True)
class TongueShape:
    """A tongue's proportions, as fractions of the opening (``down``: 0 at the upper inner
    lip, 1 at the lower; ``across``: -1 and 1 at the corners): its back edge ``back`` down
    the middle, ``rise`` further down at the corners (highest in the middle, rounding down to
    the sides); as wide as ``reach`` across, fading over the last ``fade`` of it; its back
    edge rising over ``edge`` of the opening's height as ``ramp`` rises; darker by ``sides``
    at the corners (a rounded mass lit from the front)."""
    back: float
    rise: float
    reach: float
    fade: float
    edge: float
    sides: float
    ramp: Callable[[np.ndarray], np.ndarray] = smoothstep


class Tongue(NamedTuple):
    """A tongue at each pixel: where it lies (0 to 1), how lit it is (1 on its top in the
    middle, darker towards its front and its sides), and where its back edge lies (as
    ``down``) and how far across it reaches (0 to 1) in each pixel's column."""
    mass: np.ndarray
    light: np.ndarray
    back_edge: np.ndarray
    width: np.ndarray


def tongue_at(down: np.ndarray, across: np.ndarray, shape: TongueShape) -> Tongue:
    """A tongue of ``shape`` at each pixel ``down`` and ``across`` an opening."""
    back_edge = shape.back + shape.rise * across**2
    width = np.clip((shape.reach - np.abs(across)) / shape.fade, 0.0, 1.0)
    mass = shape.ramp((down - back_edge) / shape.edge) * width
    light = 1.0 - 0.4 * np.clip((down - back_edge) / 0.4, 0.0, 1.0) - shape.sides * across**2
    return Tongue(mass, light, back_edge, width)
