"""Fixtures for the hardware workflow: a tiny trained run and counted Runtime submissions."""

from __future__ import annotations

from pathlib import Path

import pytest
from qiskit_ibm_runtime.executor_estimator import Estimator

from qmtl.cli import main
from qmtl.hardware import jobs


@pytest.fixture
def trained_run(tiny_config, write_config, tmp_path) -> Path:
    """A 4-qubit digits run trained for one epoch on default.qubit (20 test examples)."""
    tiny_config["data"]["limit"] = 100
    tiny_config["training"].update(epochs=1, conflict_diagnostic=False)
    run = tmp_path / "run"
    assert main(["train", str(write_config(tiny_config)), "--out", str(run), "--quiet"]) == 0
    return run


@pytest.fixture
def submissions(monkeypatch) -> list:
    """Every job sent through Runtime's client-side Estimator (local or not), in order."""
    sent: list = []
    original = Estimator.run

    def run(self, pubs, **kwargs):
        job = original(self, pubs, **kwargs)
        sent.append(job)
        return job

    monkeypatch.setattr(Estimator, "run", run)
    # Each test starts as a fresh process would: no local jobs from earlier tests.
    monkeypatch.setattr(jobs, "_LOCAL_JOBS", {})
    return sent


@pytest.fixture
def no_account(monkeypatch, tmp_path):
    """No saved IBM account and no QISKIT_IBM_* variables."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("QISKIT_IBM_TOKEN", "QISKIT_IBM_CHANNEL", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_URL"):
        monkeypatch.delenv(name, raising=False)
