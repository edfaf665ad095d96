"""Process and run-state mistakes: each is exit 2 (130 for Ctrl-C) and one line, and changes nothing on disk."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from qiskit_ibm_runtime.fake_provider import FakeManilaV2
from tiny_configs import TINY

from qmtl.cli import main
from qmtl.devices import targets
from qmtl.rundir import RunDir


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _one_line_error(capsys, needle: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qmtl: error: ") and needle in err, err
    assert "Traceback" not in err and "RUN_DIR" not in err
    return err


@pytest.fixture
def sweep_file(tmp_path, write_config):
    base = copy.deepcopy(TINY)
    base["training"]["epochs"] = 1
    write_config(base, "base.yaml")
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"base": "base.yaml", "grid": {"training.lr": [0.01, 0.02]}, "seeds": [0]}))
    return path


@pytest.mark.parametrize("argv, needle", [
    (["--workers", "0"], "--workers must be at least 1, got 0"),
    (["--workers", "-3"], "--workers must be at least 1, got -3"),
    (["--executor", "ray", "--workers", "0"], "--workers must be at least 1, got 0"),
    (["--retries", "-1"], "--retries must be 0 or more"),
])
def test_sweep_worker_and_retry_counts_are_checked_before_anything_is_written(
        sweep_file, tmp_path, capsys, argv, needle):
    before = _tree(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(sweep_file), "--out", str(out), "--quiet", *argv]) == 2
    _one_line_error(capsys, needle)
    assert not out.exists() and _tree(tmp_path) == before


def test_sweep_out_that_is_a_file_is_refused(sweep_file, tmp_path, capsys):
    blocker = tmp_path / "results.txt"
    blocker.write_text("keep me")
    assert main(["sweep", str(sweep_file), "--out", str(blocker), "--quiet"]) == 2
    _one_line_error(capsys, f"sweep directory '{blocker}' is a file")
    assert blocker.read_text() == "keep me"


def test_train_out_that_is_a_file_is_refused(write_config, tmp_path, capsys):
    blocker = tmp_path / "run"
    blocker.write_text("keep me")
    assert main(["train", str(write_config(TINY)), "--out", str(blocker), "--quiet"]) == 2
    _one_line_error(capsys, f"output path '{blocker}' is a file")
    assert blocker.read_text() == "keep me"


@pytest.mark.parametrize("extra, needle", [
    (["--out", "elsewhere"], "drop --out"),
    (["--force"], "--resume continues a run and --force overwrites it"),
])
def test_resume_with_out_or_force_is_refused(tmp_path, capsys, monkeypatch, extra, needle):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("seed: 0\n")
    assert main(["train", "--resume", str(run), *extra, "--quiet"]) == 2
    _one_line_error(capsys, needle)
    assert not (tmp_path / "elsewhere").exists() and _tree(run) == {"config.yaml": b"seed: 0\n"}


def test_ctrl_c_names_the_run_directory_and_marks_the_run_interrupted(write_config, tmp_path, capsys, monkeypatch):
    from qmtl.training import Trainer

    def interrupted_epoch(self, epoch):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_epoch", interrupted_epoch)
    out = tmp_path / "run"
    assert main(["train", str(write_config(TINY)), "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert err == f"qmtl: interrupted; resume with 'qmtl train --resume {out}'\n"
    assert RunDir(out).status()["state"] == "interrupted"
    monkeypatch.undo()
    assert main(["train", "--resume", str(out), "--quiet"]) == 0  # the lock was released with the interrupt
    assert RunDir(out).is_complete()


def test_ctrl_c_of_a_sweep_names_the_command_to_run_again(sweep_file, tmp_path, capsys, monkeypatch):
    import qmtl.sweep

    def interrupted_sweep(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(qmtl.sweep, "run_sweep", interrupted_sweep)
    out = tmp_path / "out"
    assert main(["sweep", str(sweep_file), "--out", str(out), "--quiet"]) == 130
    assert capsys.readouterr().err == (f"qmtl: interrupted; run 'qmtl sweep {sweep_file} --out {out} --quiet' "
                                       f"again to pick up where it stopped\n")


def test_a_budget_stop_is_recorded_as_stopped_with_the_run_path_and_resumes(
        write_config, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "fake-token-abc123xyz")
    monkeypatch.setattr(targets, "ibm_backend", lambda name: FakeManilaV2())
    # 2 qubits, 39 training rows in 3 steps of 16, 64 shots. A 1 s budget stops the first step: the cost
    # model charges 2 s of overhead per job whatever the circuit.
    raw = {
        "seed": 0,
        "data": {"name": "digits", "limit": 60},
        "tasks": [{"name": "parity", "kind": "binary", "observables": ["Z0", "Z1"]}],
        "model": {"n_qubits": 2, "encoder": {"hidden": [4]}, "ansatz": {"layers": 1}},
        "device": {"name": "ibm:ibm_manila", "mode": "session", "shots": 64, "qpu_budget_seconds": 1},
        "training": {"epochs": 1, "batch_size": 16, "checkpoint_every": 1, "conflict_diagnostic": False},
    }
    out = tmp_path / "run"
    assert main(["train", str(write_config(raw)), "--out", str(out), "--quiet"]) == 2
    err = _one_line_error(capsys, "QPU budget spent")
    assert f"continue with 'qmtl train --resume {out}'" in err
    run = RunDir(out)
    status = run.status()
    assert status["state"] == "stopped" and "QPU budget spent" in status["reason"]
    assert not run.is_complete()

    config = yaml.safe_load(run.config.read_text())
    config["device"]["qpu_budget_seconds"] = 1000
    run.config.write_text(yaml.safe_dump(config))
    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    assert run.is_complete() and json.loads(run.final.read_text())["steps"] == 3
