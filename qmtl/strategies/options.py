"""Every strategy's options as a small pydantic model, validated with one-line errors.

Each weighting class and each aggregator registry entry declares an ``Options`` model: one
field per option with its type, default, range (``ge``/``gt``/``le``/``lt``) and description.
:func:`validate_options` turns a YAML mapping into that model or raises a
:class:`~qmtl.errors.UserError` naming the method, the option and the fix;
:mod:`qmtl.strategies.reference` renders every model as the table in ``docs/strategies.md``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from pydantic import ValidationError

from qmtl.errors import UserError
from qmtl.options import ComponentOptions, default_text, explain, type_name, value_range

__all__ = ["NoOptions", "StrategyOptions", "default_text", "preference_tensor", "type_name",
           "validate_options", "value_range"]


class StrategyOptions(ComponentOptions):
    """Base of every strategy's option model."""

    #: Keyword arguments of the torchjd class that take Python objects (a projector, a
    #: function): they exist but cannot come from a YAML config.
    config_forbidden: typing.ClassVar[frozenset[str]] = frozenset()


class NoOptions(StrategyOptions):
    """A method without options."""


def validate_options(label: str, model: type[StrategyOptions], options: Mapping[str, Any] | None) -> Any:
    """``options`` as an instance of ``model``, or a one-line UserError.

    ``label`` names the method in messages as the user wrote it, e.g. ``"famo"`` or
    ``"aggregator 'upgrad'"``.
    """
    options = dict(options or {})
    forbidden = sorted(set(options) & model.config_forbidden)
    if forbidden:
        raise UserError(f"{label} option '{forbidden[0]}' takes a Python object and cannot be set in a config; remove it")
    unknown = sorted(set(options) - set(model.model_fields))
    if unknown:
        kind_label = label if label.startswith(("aggregator", "weighting")) else f"weighting '{label}'"
        raise UserError(
            f"unknown option(s) {', '.join(unknown)} for {kind_label}; "
            f"valid options: {', '.join(model.model_fields) or 'none'}"
        )
    try:
        return model(**options)
    except ValidationError as error:
        raise UserError(explain(label, model, error)) from None


def preference_tensor(name: str, label: str, values: Sequence[float] | None, n_tasks: int,
                      fill: float) -> torch.Tensor:
    """A per-task vector option as a tensor: ``fill`` for every task when ``values`` is None."""
    if values is None:
        return torch.full((n_tasks,), fill, dtype=torch.get_default_dtype())
    if len(values) != n_tasks:
        raise UserError(f"{label} option '{name}' needs one number per task ({n_tasks}), got {len(values)}")
    return torch.tensor(list(values), dtype=torch.get_default_dtype())
