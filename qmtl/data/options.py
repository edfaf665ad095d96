"""Loader options: typed reads from ``data.options`` with one-line errors for mistakes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from qmtl.errors import UserError, nearest


def check_known(dataset: str, options: Mapping[str, Any], valid: Iterable[str]) -> None:
    """Reject option keys the loader does not read, suggesting the nearest valid one."""
    valid = sorted(valid)
    for key in options:
        if key not in valid:
            raise UserError(
                f"data.options.{key} is not known to '{dataset}'{nearest(key, valid)}; "
                f"valid: {', '.join(valid) or 'none'}"
            )


def number(dataset: str, options: Mapping[str, Any], key: str, default: float,
           low: float | None = None, high: float | None = None, integer: bool = False) -> Any:
    """``options[key]`` (or ``default``) as a number within ``[low, high]``."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and value != int(value)):
        kind = "an integer" if integer else "a number"
        raise UserError(f"data.options.{key} for '{dataset}' must be {kind}, got {value!r}; fix the value")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise UserError(f"data.options.{key} for '{dataset}' is {value}, outside {bounds}; fix the value")
    return int(value) if integer else float(value)


def choice(dataset: str, options: Mapping[str, Any], key: str, default: str, valid: Iterable[str]) -> str:
    """``options[key]`` (or ``default``) from a fixed set of strings."""
    valid = list(valid)
    value = options.get(key, default)
    if value not in valid:
        raise UserError(
            f"data.options.{key} for '{dataset}' is {value!r}; choose one of {', '.join(map(str, valid))}"
        )
    return str(value)
