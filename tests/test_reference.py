from pathlib import Path

from qmtl.reference import render


def test_configuration_page_is_generated_from_the_schema():
    page = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    assert page.read_text() == render(), "regenerate: python -m qmtl.reference > docs/configuration.md"


def test_every_config_key_is_documented():
    page = render()
    for key in ("`n_qubits`", "`weighting_options`", "`observables`", "`shots`", "`reupload`", "`limit`"):
        assert key in page
