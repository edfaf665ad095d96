"""The public face: ``qmtl.<name>`` for the documented API, loaded lazily, with doctests."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys

import pytest

import qmtl
import qmtl.run
from qmtl.rundir import RunDir


def test_every_exported_name_resolves_to_its_home_module():
    for name in qmtl.__all__:
        value = getattr(qmtl, name)
        if name != "__version__":
            assert value is getattr(sys.modules[qmtl._EXPORTS[name]], name), name


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'trian'"):
        qmtl.trian  # noqa: B018


def test_import_qmtl_imports_no_heavy_library():
    code = ("import sys, qmtl; heavy = {'torch', 'pennylane', 'qiskit', 'qiskit_ibm_runtime'}; "
            "print(sorted(heavy & set(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize("module", [qmtl, qmtl.run])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_train_evaluate_resume_through_the_public_names(tiny_config, tmp_path):
    tiny_config["data"]["limit"] = 60
    tiny_config["training"].update(epochs=1, conflict_diagnostic=False)
    config = qmtl.validate_config(tiny_config)
    final = qmtl.train(config, tmp_path / "run", progress=False)
    assert final == json.loads(RunDir(tmp_path / "run").final.read_text())
    assert qmtl.evaluate_run(tmp_path / "run") == final["test"]  # the same best model, evaluated again
    with qmtl.load_run(tmp_path / "run") as run:
        assert qmtl.evaluate(run.model, run.data.val, run.config.tasks) == final["val"]
    with pytest.raises(qmtl.UserError, match="already complete"):
        qmtl.resume(tmp_path / "run", progress=False)
