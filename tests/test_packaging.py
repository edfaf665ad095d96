"""Packaging: the torchjd extras qmtl asks for exist as spelled, and only runnable
aggregators are advertised.

pip before 24 compares extra names literally: ``torchjd[nash_mtl]`` silently installs
nothing when torchjd publishes ``nash-mtl``.  The spelling in pyproject.toml must therefore
match torchjd's published ``Provides-Extra`` exactly.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from tiny_configs import TINY

from qmtl.cli import main
from qmtl.errors import UserError
from qmtl.registry import aggregator_availability, describe
from qmtl.strategies import build_strategy

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _torchjd_requirement() -> Requirement:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return next(Requirement(d) for d in dependencies if Requirement(d).name == "torchjd")


def test_torchjd_extras_are_spelled_as_torchjd_publishes_them():
    requirement = _torchjd_requirement()
    published = set(metadata.metadata("torchjd").get_all("Provides-Extra"))
    assert requirement.extras, "qmtl needs torchjd's solver extras"
    assert requirement.extras <= published, (requirement.extras - published, published)


def test_the_solvers_of_those_extras_are_installed():
    requested = _torchjd_requirement().extras
    for line in metadata.metadata("torchjd").get_all("Requires-Dist"):
        dependency = Requirement(line)
        if dependency.marker and any(dependency.marker.evaluate({"extra": e}) for e in requested):
            metadata.version(dependency.name)  # raises PackageNotFoundError when missing


def _without_quadprog(monkeypatch):
    """Make torchjd's optional-dependency check see quadprog as not installed."""
    import torchjd._mixins

    real = torchjd._mixins.find_spec
    monkeypatch.setattr(torchjd._mixins, "find_spec", lambda name: None if name == "quadprog" else real(name))


def test_info_lists_only_aggregators_whose_solvers_run(monkeypatch):
    available, missing = aggregator_availability()
    assert {"upgrad", "dualproj", "nash_mtl", "cagrad", "fairgrad"} <= set(available) and not missing
    _without_quadprog(monkeypatch)
    available, missing = aggregator_availability()
    assert set(missing) == {"upgrad", "dualproj"}
    assert "mgda" in available and "upgrad" not in available
    listed = next(line for line in describe().splitlines() if line.startswith("aggregators: "))
    assert "upgrad" not in listed.split(": ")[1].split(", ") and "mgda" in listed
    assert 'pip install "torchjd[quadprog-projector]"' in missing["upgrad"] and "quadprog" in missing["upgrad"]


def test_a_missing_solver_is_one_line_naming_the_package(monkeypatch, tmp_path, capsys):
    _without_quadprog(monkeypatch)
    with pytest.raises(UserError, match=r"aggregator 'dualproj' cannot run: .*quadprog"):
        build_strategy(aggregator="dualproj", n_tasks=2)
    import yaml

    raw = {**TINY, "training": {**TINY["training"], "aggregator": "upgrad"}}
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(raw))
    capsys.readouterr()
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "quadprog" in err and "torchjd[quadprog-projector]" in err, err
    assert "Traceback" not in err and not (tmp_path / "run").exists()
