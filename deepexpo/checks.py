"""The numbers a user gives (the app's sliders and boxes, command-line options, Python
arguments), checked in one place: the request objects built from them (:class:`MotionOptions`,
:class:`ExpressionControls`, :class:`ExpressionEdit`, generation settings) call
:func:`check_number` as they are made, so every front end refuses the same values with the
same one-line :class:`InputError`. NaN fails every comparison and would pass a plain range
test; infinity would reach the maths and come back as a traceback or a silent no-op."""

from __future__ import annotations

import math
import numbers
from typing import cast

from .errors import InputError


def check_number(name: str, value: object, low: float, high: float,
                 integer: bool = False) -> float:
    """``value`` if it is a finite number (a whole one if ``integer``) in [low, high]; else a
    one-line :class:`InputError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number, not {value!r}")
    value = cast(float, value)  # a real number (typeshed's numbers.Real has no arithmetic)
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, not {value}")
    if integer and value != int(value):
        raise InputError(f"{name} must be a whole number, not {value}")
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}, not {value:g}")
    return value
