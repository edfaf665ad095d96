"""Loader options: typed reads from ``data.options`` with one-line errors for mistakes.

Types are strict: a number is never a boolean and is finite; an integer option takes only
an integer (``2.0`` is refused, as everywhere in a config).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from qmtl.config import clip, short_repr
from qmtl.errors import UserError, nearest


def check_known(dataset: str, options: Mapping[str, Any], valid: Iterable[str]) -> None:
    """Reject option keys the loader does not read, suggesting the nearest valid one."""
    valid = sorted(valid)
    for key in options:
        if key not in valid:
            raise UserError(
                f"data.options.{clip(str(key))} is not known to '{dataset}'{nearest(str(key), valid)}; "
                f"valid: {', '.join(valid) or 'none'}"
            )


def number(dataset: str, options: Mapping[str, Any], key: str, default: float,
           low: float | None = None, high: float | None = None, integer: bool = False) -> Any:
    """``options[key]`` (or ``default``) as a finite number within ``[low, high]``."""
    value = options.get(key, default)
    kind = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        what = "an integer" if integer else "a finite number"
        raise UserError(f"data.options.{key} for '{dataset}' must be {what}, got {short_repr(value)}; fix the value")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise UserError(f"data.options.{key} for '{dataset}' is {value}, outside {bounds}; fix the value")
    return int(value) if integer else float(value)


def choice(dataset: str, options: Mapping[str, Any], key: str, default: str, valid: Iterable[str]) -> str:
    """``options[key]`` (or ``default``) from a fixed set of strings."""
    valid = list(valid)
    value = options.get(key, default)
    if not isinstance(value, str) or value not in valid:
        raise UserError(
            f"data.options.{key} for '{dataset}' is {short_repr(value)}; choose one of {', '.join(map(str, valid))}"
        )
    return value
