"""Component options as small pydantic models, validated with one-line errors.

Every configurable component (a strategy, an architecture, a data loader) declares an
options model: one field per option with its type, default, range (``ge``/``gt``/``le``/
``lt``) and description.  :func:`explain` turns pydantic's first complaint into one line
naming the component, the option and the fix; :func:`value_range`, :func:`type_name` and
:func:`default_text` render a field for the generated option tables of the docs.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from qmtl.config import short_repr


class ComponentOptions(BaseModel):
    """Base of every option model: unknown keys, booleans-as-numbers, NaN and inf are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def explain(label: str, model: type[ComponentOptions], error: ValidationError,
            field_label: str = "{label} option '{name}'") -> str:
    """Pydantic's first complaint as one line; ``field_label`` names the option in it."""
    first = error.errors(include_url=False)[0]
    name = str(first["loc"][0])
    # A value inside a mapping is named by its keys, e.g. ``attend_over.digit``; list items by their list.
    path = ".".join(str(part) for part in first["loc"] if not isinstance(part, int))
    where = field_label.format(label=label, name=path)
    value = first.get("input")
    kind = first["type"]
    if kind == "missing":
        return f"{where} is required: {model.model_fields[name].description}"
    if kind == "literal_error":
        choices = ", ".join(map(str, typing.get_args(_unwrap(model.model_fields[name].annotation))))
        return f"{where} is {short_repr(value)}; choose one of {choices}"
    if kind in {"float_type", "finite_number", "float_parsing"}:
        return f"{where} must be a number (finite, not a boolean), got {short_repr(value)}"
    if kind in {"int_type", "int_from_float", "int_parsing"}:
        return f"{where} must be an integer, got {short_repr(value)}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"{where} must be true or false, got {short_repr(value)}"
    if kind in {"string_type", "string_parsing"}:
        return f"{where} must be a string, got {short_repr(value)}"
    if kind in {"dict_type", "mapping_type"}:
        described = f" ({model.model_fields[name].description})" if len(first["loc"]) == 1 else ""
        return f"{where} must be a mapping of names to values{described}, got {short_repr(value)}"
    if kind in {"list_type", "too_short"} and len(first["loc"]) == 1 and _is_list_of_numbers(model.model_fields[name]):
        return f"{where} must be a non-empty list of numbers, e.g. [1.0, 2.0], got {short_repr(value)}"
    if kind == "list_type":
        return f"{where} must be a list, got {short_repr(value)}"
    if kind == "too_short":
        return f"{where} must not be empty, got {short_repr(value)}"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        bound = next(iter(first["ctx"].values()))
        wanted = {"greater_than": "a positive number" if bound == 0 else f"> {bound:g}",
                  "greater_than_equal": f">= {bound:g}"}.get(kind, f"in {value_range(model.model_fields[name])}")
        return f"{where} must be {wanted}, got {short_repr(value)}"
    return f"{where}: {first['msg']}, got {short_repr(value)}"


def _is_list_of_numbers(field: FieldInfo) -> bool:
    """Whether the field holds a list of floats (e.g. a preference vector)."""
    inner = _unwrap(field.annotation)
    if typing.get_origin(inner) is not list:
        return False
    item = typing.get_args(inner)[0]
    return (typing.get_args(item)[0] if typing.get_origin(item) is Annotated else item) in (float, int)


def _unwrap(annotation: Any) -> Any:
    """The annotation without ``| None``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def value_range(field: FieldInfo) -> str:
    """The field's range as an interval, e.g. ``(0, ∞)`` or ``[0, 1)``; ``–`` when unbounded."""
    low: Any = None
    high: Any = None
    low_open, high_open = True, True
    metadata = [*field.metadata]
    item = typing.get_args(_unwrap(field.annotation))
    if typing.get_origin(_unwrap(field.annotation)) is list and typing.get_origin(item[0]) is Annotated:
        metadata += [m for info in item[0].__metadata__ for m in getattr(info, "metadata", [info])]
    for item in metadata:
        if isinstance(item, annotated_types.Gt):
            low, low_open = item.gt, True
        elif isinstance(item, annotated_types.Ge):
            low, low_open = item.ge, False
        elif isinstance(item, annotated_types.Lt):
            high, high_open = item.lt, True
        elif isinstance(item, annotated_types.Le):
            high, high_open = item.le, False
    if low is None and high is None:
        return "–"
    left = "(-∞" if low is None else ("(" if low_open else "[") + f"{low:g}"
    right = "∞)" if high is None else f"{high:g}" + (")" if high_open else "]")
    return f"{left}, {right}"


def type_name(annotation: Any) -> str:
    """A short readable name of an option's type."""
    optional = annotation is not _unwrap(annotation)
    text = _plain_type_name(_unwrap(annotation))
    return f"{text} or null" if optional else text


def _plain_type_name(annotation: Any) -> str:
    """``type_name`` of a type without ``| None``: constraints dropped, containers with their items."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _plain_type_name(args[0])
    if origin is Literal:
        return " \\| ".join(f"`{arg}`" for arg in args)
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_plain_type_name(arg) for arg in args)}]"
    return getattr(annotation, "__name__", str(annotation))


def default_text(field: FieldInfo) -> str:
    """The default as YAML would spell it, or ``required``."""
    if field.is_required():
        return "required"
    default = field.default
    if default is None:
        return "null"
    if isinstance(default, bool):
        return str(default).lower()
    return f"{default:g}" if isinstance(default, float) else str(default)
