"""Validation of ``model.options``, the architecture-specific settings of a config.

Every architecture declares its options with defaults; a key it does not know is a
one-line :class:`~qmtl.errors.UserError` naming the valid ones, like every other typo in
a config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qmtl.errors import UserError, nearest


def read_options(
    architecture: str, given: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """``defaults`` updated with ``given``; unknown keys raise :class:`UserError`."""
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        key = unknown[0]
        raise UserError(
            f"unknown model.options key '{key}' for architecture '{architecture}'"
            f"{nearest(key, defaults)}; valid options: {', '.join(sorted(defaults)) or 'none'}"
        )
    return {**defaults, **given}


def positive_int(architecture: str, options: Mapping[str, Any], key: str) -> int:
    """``options[key]`` as an integer >= 1, else a :class:`UserError`."""
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(
            f"model.options.{key} = {value!r} for architecture '{architecture}' must be an "
            f"integer >= 1"
        )
    return value


def non_negative_float(architecture: str, options: Mapping[str, Any], key: str) -> float:
    """``options[key]`` as a float >= 0, else a :class:`UserError`."""
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise UserError(
            f"model.options.{key} = {value!r} for architecture '{architecture}' must be a "
            f"number >= 0"
        )
    return float(value)
