"""Validation of the option values that arrive from YAML, raising :class:`UserError`."""

from __future__ import annotations

import math

from qmtl.errors import UserError


def positive_float(method: str, name: str, value: object) -> float:
    """``value`` as a finite float > 0, or a UserError naming the method and option."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{method} option '{name}' must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise UserError(f"{method} option '{name}' must be a positive number, got {value!r}")
    return float(value)


def non_negative_float(method: str, name: str, value: object) -> float:
    """``value`` as a finite float >= 0, or a UserError naming the method and option."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{method} option '{name}' must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise UserError(f"{method} option '{name}' must be >= 0, got {value!r}")
    return float(value)
