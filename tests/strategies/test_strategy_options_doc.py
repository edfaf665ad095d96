"""docs/strategies.md lists every strategy's options exactly as the option models declare them."""

from __future__ import annotations

from pathlib import Path

from qmtl.strategies import AGGREGATORS, WEIGHTINGS
from qmtl.strategies.reference import options_reference

PAGE = Path(__file__).resolve().parents[2] / "docs" / "strategies.md"


def test_options_table_matches_the_models() -> None:
    text = PAGE.read_text()
    table = text.split("<!-- options:begin -->\n")[1].split("<!-- options:end -->")[0]
    assert table == options_reference(), "regenerate the table: python -m qmtl.strategies.reference"


def test_every_strategy_and_option_is_in_the_page() -> None:
    text = PAGE.read_text()
    for name in [*WEIGHTINGS, *AGGREGATORS]:
        assert f"`{name}`" in text
    for cls in WEIGHTINGS.values():
        assert all(f"`{option}`" in text for option in cls.Options.model_fields)
