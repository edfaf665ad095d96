"""Loader options (``data.options``): one pydantic model per data set, one-line errors.

Every loader declares its options as a :class:`DataOptions` model (one field per option
with its type, default, range and description), registered in
:data:`qmtl.data.DATA_OPTIONS`, and reads them with :func:`parse_data_options`.  Types
are strict: a number is never a boolean and is finite; an integer option takes only an
integer (``2.0`` is refused, as everywhere in a config); a choice is one of its names.
:class:`CommonDataOptions` holds the options every data set takes, which
:func:`qmtl.data.load_data` reads before the loader sees the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import Field, ValidationError

from qmtl.config import clip
from qmtl.errors import UserError, nearest
from qmtl.options import ComponentOptions, explain


class DataOptions(ComponentOptions):
    """Base of every data set's option model (``data.options``)."""


class CommonDataOptions(ComponentOptions):
    """Options every data set takes; :func:`qmtl.data.load_data` reads them, not the loader."""

    standardise_targets: bool = Field(
        False, description="rescale each regression target to zero mean and unit variance on the training "
                           "split (metrics are then in those units; R² is unchanged)")


OptionsT = TypeVar("OptionsT", bound=ComponentOptions)


def parse_data_options(dataset: str, model: type[OptionsT], given: Mapping[str, Any]) -> OptionsT:
    """``given`` (a config's ``data.options``) as ``model``, or a one-line :class:`UserError`.

    An unknown key is refused with the nearest valid one; the valid ones listed include
    the common options (:class:`CommonDataOptions`).
    """
    valid = sorted({*model.model_fields, *CommonDataOptions.model_fields})
    for key in given:
        if key not in model.model_fields:
            raise UserError(
                f"data.options.{clip(str(key))} is not known to '{dataset}'{nearest(str(key), valid)}; "
                f"valid: {', '.join(valid)}"
            )
    try:
        return model(**given)
    except ValidationError as error:
        raise UserError(explain(dataset, model, error, "data.options.{name} for data set '{label}'")) from None
