"""The configuration reference, generated from the schema so it cannot drift from it.

``python -m qmtl.reference > docs/configuration.md`` regenerates the page; a test checks
that the committed page equals the generated one.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from qmtl.config import RunConfig

HEADER = """# Configuration reference

A run is one YAML file. Every section rejects unknown keys (the nearest valid key is
suggested), and any key can be overridden from the command line with
`--set key.path=value` (the value is parsed as YAML, e.g. `--set model.encoder.hidden=[64]`,
`--set tasks.0.weight=2`). The resolved config, with every default filled in, is saved
as `config.yaml` in the run directory.

This page is generated from the schema (`python -m qmtl.reference > docs/configuration.md`);
`tests/test_reference.py` fails when it is out of date. Registered names (devices, data
sets, architectures, ansatze, weightings, aggregators) are listed by `qmtl info`.
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return " / ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (list, dict):
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{origin.__name__}[{args}]"
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def _sections(model: type[BaseModel], prefix: str) -> list[tuple[str, type[BaseModel]]]:
    found = [(prefix, model)]
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _sections(annotation, f"{prefix}.{name}" if prefix else name)
        elif typing.get_origin(annotation) is list:
            (item,) = typing.get_args(annotation)
            if isinstance(item, type) and issubclass(item, BaseModel):
                found += _sections(item, f"{prefix}.{name}[]" if prefix else f"{name}[]")
    return found


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        return "" if isinstance(value, BaseModel) else f"`{value!r}`"
    if field.default is PydanticUndefined:
        return "required"
    return f"`{field.default!r}`"


def _description(field: Any) -> str:
    return " ".join((field.description or "").split()).replace("|", "\\|")


def render() -> str:
    """The whole reference page as Markdown."""
    parts = [HEADER]
    for path, model in _sections(RunConfig, ""):
        title = path or "top level"
        doc = " ".join((model.__doc__ or "").split())
        parts.append(f"\n## `{title}`\n\n{doc}\n\n| key | type | default | meaning |\n| --- | --- | --- | --- |")
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                continue
            parts.append(f"| `{name}` | {_type_name(annotation)} | {_default(field)} | {_description(field)} |")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(render(), end="")
