"""The configuration reference, generated from the schema so it cannot drift from it.

``python -m qmtl.reference > docs/configuration.md`` regenerates the page; a test checks
that the committed page equals the generated one.  Besides the config sections, it lists
every architecture's ``model.options`` and every data set's ``data.options`` from their
option models (:data:`qmtl.architectures.ARCHITECTURE_OPTIONS`, :data:`qmtl.data.DATA_OPTIONS`),
so a newly registered component appears with its options once the page is regenerated.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from qmtl.architectures import ARCHITECTURE_OPTIONS
from qmtl.config import RunConfig
from qmtl.data import DATA_OPTIONS
from qmtl.data.options import CommonDataOptions
from qmtl.options import ComponentOptions, default_text, type_name, value_range

HEADER = """# Configuration reference

A run is one YAML file. Every section rejects unknown keys (the nearest valid key is
suggested), and any key can be overridden from the command line with
`--set key.path=value` (the value is parsed as YAML, e.g. `--set model.encoder.hidden=[64]`,
`--set tasks.0.weight=2`). The resolved config, with every default filled in, is saved
as `config.yaml` in the run directory.

This page is generated from the schema (`python -m qmtl.reference > docs/configuration.md`);
`tests/test_reference.py` fails when it is out of date. Registered names (devices, data
sets, architectures, ansatze, weightings, aggregators) are listed by `qmtl info`; the
options of each architecture and data set are listed at the end of this page, those of
the weightings and aggregators in [strategies.md](strategies.md).
"""

#: Config keys whose value is a component's options, documented per component further down.
COMPONENT_OPTIONS = {
    "data.options": "mapping: the data set's options (see the data set tables below)",
    "model.options": "mapping: the architecture's options (see the architecture tables below)",
}

ARCHITECTURES_INTRO = """
## `model.options` by architecture

Each architecture (`model.architecture`) reads its own `model.options`. An unknown key, or
a value of the wrong type or outside its range, is refused in one line naming
`model.options.<key>` and the architecture. Ranges are intervals: `[1, 4096]` includes both
ends, `(0, ∞)` excludes 0.
"""

DATA_SETS_INTRO = """
## `data.options` by data set

Each data set (`data.name`) reads its own `data.options`; an unknown key, or a value of the
wrong type or outside its range, is refused in one line naming `data.options.<key>` and the
data set. Every data set also takes these:
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
    """The field's description as one table cell: pipes escaped, ``<`` not read as HTML."""
    return " ".join((field.description or "").split()).replace("|", "\\|").replace("<", "&lt;")


def _doc(component: type[ComponentOptions]) -> str:
    return " ".join((component.__doc__ or "").split())


def _option_table(component: type[ComponentOptions]) -> str:
    """The component's options as a Markdown table, or a line saying it takes none."""
    if not component.model_fields:
        return "No options."
    rows = ["| option | type | default | range | meaning |", "| --- | --- | --- | --- | --- |"]
    for name, field in component.model_fields.items():
        rows.append(f"| `{name}` | {type_name(field.annotation)} | {default_text(field)} | "
                    f"{value_range(field)} | {_description(field)} |")
    return "\n".join(rows)


def _components(heading: str, registry: dict[str, type[ComponentOptions]]) -> list[str]:
    return [f"\n### {heading} `{name}`\n\n{_doc(component)}\n\n{_option_table(component)}"
            for name, component in sorted(registry.items())]


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
            key = f"{path}.{name}" if path else name
            kind = COMPONENT_OPTIONS.get(key, _type_name(annotation))
            parts.append(f"| `{name}` | {kind} | {_default(field)} | {_description(field)} |")
    parts += [ARCHITECTURES_INTRO, *_components("architecture", dict(ARCHITECTURE_OPTIONS))]
    parts += [DATA_SETS_INTRO, _option_table(CommonDataOptions), *_components("data set", dict(DATA_OPTIONS))]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(render(), end="")
