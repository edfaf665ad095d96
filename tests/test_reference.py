from pathlib import Path

import pytest

from qmtl.architectures import ARCHITECTURE_OPTIONS
from qmtl.data import DATA_OPTIONS
from qmtl.data.options import CommonDataOptions
from qmtl.reference import render


def test_configuration_page_is_generated_from_the_schema():
    page = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    assert page.read_text() == render(), "regenerate: python -m qmtl.reference > docs/configuration.md"


def test_every_config_key_is_documented():
    page = render()
    for key in ("`n_qubits`", "`weighting_options`", "`observables`", "`shots`", "`reupload`", "`limit`"):
        assert key in page


def _section(page: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading."""
    start = page.index(heading + "\n") + len(heading)
    end = page.find("\n#", start)
    return page[start:] if end == -1 else page[start:end]


@pytest.mark.parametrize(("kind", "registry"), [("architecture", ARCHITECTURE_OPTIONS), ("data set", DATA_OPTIONS)])
def test_every_registered_component_lists_each_of_its_options(kind, registry):
    page = render()
    for name, model in registry.items():
        section = _section(page, f"### {kind} `{name}`")
        if not model.model_fields:
            assert "No options." in section
        for option in model.model_fields:
            assert f"\n| `{option}` |" in section, f"{kind} {name}: option {option} missing"


def test_option_rows_show_type_default_and_range_and_the_common_data_options_are_listed():
    page = render()
    qmoe = _section(page, "### architecture `qmoe`")
    assert "| `experts` | int | 3 | [1, 4096] | number of expert circuits |" in qmoe
    assert "| `penalty_kind` | `circular` \\| `l2` | circular | – |" in _section(page, "### architecture `soft_sharing`")
    for option in CommonDataOptions.model_fields:
        assert f"| `{option}` |" in _section(page, "## `data.options` by data set")


def test_model_and_data_options_are_no_longer_an_opaque_mapping():
    page = render()
    assert "dict[str, any] | `{}` | architecture options" not in page
    assert "dict[str, any] | `{}` | loader-specific options" not in page
    assert "see the architecture tables below" in _section(page, "## `model`")
