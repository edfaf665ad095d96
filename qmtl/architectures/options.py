"""Validation of ``model.options``, the architecture-specific settings of a config.

Every architecture declares its options as an :class:`ArchitectureOptions` model (one
field per option with its type, default, range and description), registered in
:data:`qmtl.architectures.ARCHITECTURE_OPTIONS`.  A key it does not know is a one-line
:class:`~qmtl.errors.UserError` naming the valid ones, like every other typo in a config.
Types are strict: a switch takes only ``true``/``false``, a count only an integer (never a
boolean or ``2.0``), a number is finite, a choice is one of its listed names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

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
