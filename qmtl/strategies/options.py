"""Validation of the option values that arrive from YAML, raising :class:`UserError`.

Weightings call :func:`positive_float` / :func:`non_negative_float` on their options;
torchjd aggregators' options are checked against the aggregator's own type annotations by
:func:`aggregator_option` (a number is never a boolean, a count is an integer >= 1, every
number is finite), while torchjd checks their ranges itself.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any, Literal

import torch

from qmtl.config import short_repr
from qmtl.errors import UserError


def positive_float(method: str, name: str, value: object) -> float:
    """``value`` as a finite float > 0, or a UserError naming the method and option."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{method} option '{name}' must be a number, got {short_repr(value)}")
    if not math.isfinite(value) or value <= 0:
        raise UserError(f"{method} option '{name}' must be a positive number, got {short_repr(value)}")
    return float(value)


def non_negative_float(method: str, name: str, value: object) -> float:
    """``value`` as a finite float >= 0, or a UserError naming the method and option."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{method} option '{name}' must be a number, got {short_repr(value)}")
    if not math.isfinite(value) or value < 0:
        raise UserError(f"{method} option '{name}' must be >= 0, got {short_repr(value)}")
    return float(value)


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def aggregator_option(method: str, name: str, value: object, annotation: Any) -> Any:
    """A YAML ``value`` for keyword ``name`` of a torchjd aggregator, typed by its ``annotation``.

    ``float`` takes a finite number, ``int`` an integer >= 1 (every integer option of
    torchjd's aggregators is a count), a ``Tensor`` a non-empty list of finite numbers, a
    ``Literal`` one of its values, and an optional one also ``null``.  Options that take
    Python objects (a projector, a function) cannot come from a config.
    """
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        choices = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if value is None and len(choices) < len(typing.get_args(annotation)):
            return None
        annotation = choices[0] if len(choices) == 1 else annotation
    where = f"aggregator '{method}' option '{name}'"
    if typing.get_origin(annotation) is Literal:
        valid = typing.get_args(annotation)
        if value not in valid:
            raise UserError(f"{where} is {short_repr(value)}; choose one of {', '.join(map(str, valid))}")
        return value
    if annotation is float:
        if not _is_number(value):
            raise UserError(f"{where} must be a finite number, got {short_repr(value)}")
        return float(value)  # type: ignore[arg-type]
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserError(f"{where} must be an integer >= 1, got {short_repr(value)}")
        return value
    if annotation is torch.Tensor:
        if not isinstance(value, list) or not value or not all(_is_number(v) for v in value):
            raise UserError(f"{where} must be a list of finite numbers, e.g. [1.0, 2.0], got {short_repr(value)}")
        return torch.tensor(value, dtype=torch.get_default_dtype())
    raise UserError(f"{where} takes a Python object and cannot be set in a config; remove it")
