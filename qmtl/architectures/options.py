"""Validation of ``model.options``, the architecture-specific settings of a config.

Every architecture declares its options with defaults; a key it does not know is a
one-line :class:`~qmtl.errors.UserError` naming the valid ones, like every other typo in
a config.  A given value must have its default's type: a switch (default ``True``) takes
only ``true``/``false``, a count (an integer default) only an integer, never a boolean or
``2.0``; a number is finite.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from qmtl.config import short_repr
from qmtl.errors import UserError, nearest
from qmtl.options import ComponentOptions, explain

MAX_COUNT = 4096
"""Largest count option (experts, layers, widths): larger ones only exhaust memory."""


class ArchitectureOptions(ComponentOptions):
    """Base of every architecture's option model (``model.options``)."""


OptionsT = TypeVar("OptionsT", bound=ArchitectureOptions)


def parse_options(architecture: str, model: type[OptionsT], given: Mapping[str, Any]) -> OptionsT:
    """``given`` (a config's ``model.options``) as ``model``, or a one-line :class:`UserError`."""
    unknown = sorted(set(given) - set(model.model_fields), key=str)
    if unknown:
        key = str(unknown[0])
        raise UserError(
            f"unknown model.options key '{key}' for architecture '{architecture}'"
            f"{nearest(key, model.model_fields)}; valid options: {', '.join(sorted(model.model_fields)) or 'none'}"
        )
    try:
        return model(**given)
    except ValidationError as error:
        raise UserError(explain(architecture, model, error, "model.options.{name} for architecture '{label}'")) from None


def _type_name(default: Any) -> str | None:
    """The YAML type a value must have to replace ``default``; ``None`` when any may."""
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "a string"
    return None


def _has_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if isinstance(default, str):
        return isinstance(value, str)
    return True


def read_options(
    architecture: str, given: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """``defaults`` updated with ``given``; unknown keys or mistyped values raise :class:`UserError`."""
    unknown = sorted(set(given) - set(defaults), key=str)
    if unknown:
        key = str(unknown[0])
        raise UserError(
            f"unknown model.options key '{key}' for architecture '{architecture}'"
            f"{nearest(key, defaults)}; valid options: {', '.join(sorted(defaults)) or 'none'}"
        )
    for key, value in given.items():
        if not _has_type(value, defaults[key]):
            raise UserError(
                f"model.options.{key} = {short_repr(value)} for architecture '{architecture}' must be "
                f"{_type_name(defaults[key])}; fix the value"
            )
    return {**defaults, **given}


def positive_int(architecture: str, options: Mapping[str, Any], key: str) -> int:
    """``options[key]`` as an integer in ``1..MAX_COUNT``, else a :class:`UserError`."""
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise UserError(
            f"model.options.{key} = {short_repr(value)} for architecture '{architecture}' must be an "
            f"integer from 1 to {MAX_COUNT}"
        )
    return value


def non_negative_float(architecture: str, options: Mapping[str, Any], key: str) -> float:
    """``options[key]`` as a finite float >= 0, else a :class:`UserError`."""
    value = options[key]
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or value < 0):
        raise UserError(
            f"model.options.{key} = {short_repr(value)} for architecture '{architecture}' must be a "
            f"finite number >= 0"
        )
    return float(value)
