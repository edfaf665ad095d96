"""``qmtl info`` names each architecture's and data set's options, from their option models."""

from __future__ import annotations

from qmtl.architectures import ARCHITECTURE_OPTIONS
from qmtl.data import DATA_OPTIONS
from qmtl.registry import describe, with_options


def test_components_are_listed_with_their_option_names() -> None:
    listed = with_options(ARCHITECTURE_OPTIONS)
    assert "soft_sharing (penalty, penalty_kind)" in listed and "hard_sharing" in listed
    assert "csv (modalities)" in with_options(DATA_OPTIONS) and "npz" in with_options(DATA_OPTIONS)


def test_qmtl_info_shows_the_options_of_every_architecture_and_data_set() -> None:
    lines = describe().splitlines()
    assert f"architectures: {', '.join(with_options(ARCHITECTURE_OPTIONS))}" in lines
    assert f"data sets: {', '.join(with_options(DATA_OPTIONS))}" in lines
    assert any("docs/configuration.md" in line for line in lines)
