"""Bad ``qmtl submit`` inputs: exit code 2, one line naming problem and fix, nothing changed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from folder_state import folder_state
from tiny_configs import finished_tiny_run

from qmtl.cli import main
from qmtl.hardware import jobs


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One tiny 4-qubit run with a finished fake_manila submission, made once (copied per case)."""
    return finished_tiny_run(tmp_path_factory.mktemp("trained"), submitted=True)



def _status(state: str) -> Callable[[Path], Path]:
    def set_state(run: Path) -> Path:
        (run / "status.json").write_text(json.dumps({"state": state}))
        return run
    return set_state


def _without_checkpoints(run: Path) -> Path:
    shutil.rmtree(run / "checkpoints")
    return _status("failed")(run)


def _corrupt(relative: str, text: str) -> Callable[[Path], Path]:
    def corrupt(run: Path) -> Path:
        (run / relative).write_text(text)
        return run
    return corrupt


def _config_file(run: Path) -> Path:
    return run / "config.yaml"


def _empty_folder(run: Path) -> Path:
    shutil.rmtree(run)
    run.mkdir()
    return run


def _missing(run: Path) -> Path:
    return run / "no-such-run"


# (options after the run path, what the one line must say, how the run is spoilt first)
CASES = {
    "zero shots": (["--shots", "0"], "--shots must be a positive whole number", None),
    "negative shots": (["--shots", "-5"], "e.g. --shots 4000", None),
    "zero rows per job": (["--rows-per-job", "0"], "--rows-per-job must be positive", None),
    "zero QPU cap": (["--max-qpu-seconds", "0"], "--max-qpu-seconds must be a finite", None),
    "negative QPU cap": (["--max-qpu-seconds", "-1"], "or leave it out for no cap", None),
    "NaN QPU cap": (["--max-qpu-seconds", "nan"], "above 0, got nan", None),
    "infinite QPU cap": (["--max-qpu-seconds", "inf"], "above 0, got inf", None),
    "bare ibm_": (["--backend", "ibm_"], "'ibm_' names no backend", None),
    "bare ibm:": (["--backend", "ibm:"], "'ibm:' names no backend", None),
    "bare fake_": (["--backend", "fake_"], "'fake_' names no backend", None),
    "path as backend": (["--backend", "ibm:../../escape"], "is not a backend name", None),
    "no prefix": (["--backend", "manila"], "neither an IBM backend", None),
    "misspelt fake": (["--backend", "fake_manilla"], "did you mean 'fake_manila'", None),
    "too narrow, dry run": (["--backend", "fake_armonk", "--dry-run"],
                            "needs 4 qubits but fake_armonk has 1", None),
    "too narrow": (["--backend", "fake_armonk"], "choose a backend with at least 4 qubits", None),
    "missing run": ([], "is not a qmtl run directory", _missing),
    "config file as run": ([], "run directory; check the path", _config_file),
    "empty folder": ([], "is not a qmtl run directory", _empty_folder),
    "unfinished run": ([], "has not finished training (status: running)", _status("running")),
    "no checkpoint": (["--dry-run"], "has no checkpoint yet", _without_checkpoints),
    "corrupt checkpoint": (["--dry-run"], "truncated, corrupted",
                           _corrupt("checkpoints/best.pt", "not a checkpoint")),
    "corrupt ledger": ([], "job ledger", _corrupt("hardware/fake_manila/jobs.json", '{"jobs": [')),
    "ledger with a broken record": ([], "restore it from a backup", _corrupt(
        "hardware/fake_manila/jobs.json",
        json.dumps({"backend": "fake_manila", "local": True, "jobs": [{"job_id": "x"}]}))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_submit_input_is_one_line_exit_2_and_changes_nothing(
        case, trained, tmp_path, capsys, monkeypatch):
    options, message, spoil = CASES[case]
    monkeypatch.setattr(jobs, "_LOCAL_JOBS", {})
    run = Path(shutil.copytree(trained, tmp_path / "run"))
    target = spoil(run) if spoil else run
    before = folder_state(run) if run.exists() else {}
    argv = ["submit", str(target), "--backend", "fake_manila", "--shots", "100", "--yes"]
    code = main(argv + options)
    out, err = capsys.readouterr()
    assert code == 2, (case, out, err)
    assert err.count("\n") == 1 and err.startswith("qmtl: error: "), err
    assert "Traceback" not in err and message in err, err
    assert (folder_state(run) if run.exists() else {}) == before


def test_an_unfinished_run_can_still_be_costed(trained, tmp_path, capsys):
    run = _status("running")(Path(shutil.copytree(trained, tmp_path / "run")))
    assert main(["submit", str(run), "--backend", "fake_manila", "--dry-run"]) == 0
    assert "estimated QPU time" in capsys.readouterr().out
