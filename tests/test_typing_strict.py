"""Issue 13: mypy checks every module, and a run's optional data is read through one typed door."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from tiny_configs import TINY

from qmtl.config import validate_config
from qmtl.run import build_run

ROOT = Path(__file__).resolve().parents[1]


def test_no_qmtl_module_is_exempt_from_type_checking() -> None:
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]["overrides"]
    exempt = [override["module"] for override in overrides if override.get("ignore_errors")]
    assert exempt == []
    for override in overrides:  # missing stubs may be tolerated, but only for third-party packages
        modules = [override["module"]] if isinstance(override["module"], str) else override["module"]
        assert not [module for module in modules if module.split(".")[0] == "qmtl"]


def test_a_run_built_from_its_config_has_its_data() -> None:
    with build_run(validate_config({**TINY, "data": {"name": "digits", "limit": 60}})) as run:
        assert run.require_data() is run.data
        assert run.require_data().input_dims == 64


def test_a_run_built_for_an_input_width_has_no_data_and_says_how_to_get_it() -> None:
    with build_run(validate_config(TINY), input_dims=3) as run:
        assert run.data is None
        with pytest.raises(RuntimeError, match=r"without data .*build_run\(config\)"):
            run.require_data()
