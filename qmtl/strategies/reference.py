"""The option table of ``docs/strategies.md``, generated from the strategies' option models.

``python -m qmtl.strategies.reference`` prints it; a test checks the page holds exactly this.
"""

from __future__ import annotations

from qmtl.strategies.aggregation import AGGREGATORS
from qmtl.strategies.options import default_text, type_name, value_range
from qmtl.strategies.weighting import WEIGHTINGS


def options_reference() -> str:
    """A markdown table of every strategy's options, generated from the option models."""
    rows = ["| strategy | option | type | default | range | description |", "|---|---|---|---|---|---|"]
    entries = [(f"weighting `{name}`", cls.Options) for name, cls in sorted(WEIGHTINGS.items())]
    entries += [(f"aggregator `{name}`", spec.options) for name, spec in sorted(AGGREGATORS.items())]
    for title, model in entries:
        if not model.model_fields:
            rows.append(f"| {title} | – | | | | no options |")
        for option, field in model.model_fields.items():
            rows.append(f"| {title} | `{option}` | {type_name(field.annotation)} | {default_text(field)} | "
                        f"{value_range(field)} | {field.description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(options_reference(), end="")
