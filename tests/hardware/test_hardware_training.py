"""Hardware-in-the-loop training: ibm:<name> in session mode with a QPU-time budget."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

from qmtl.cli import main
from qmtl.devices import DeviceConfig, build_device, targets
from qmtl.errors import UserError

TOKEN = "fake-token-abc123xyz"


@pytest.fixture
def hardware_config(write_config):
    """2 qubits, 39 training examples in 3 steps of <= 16, 64 shots, a checkpoint every step."""
    return {
        "seed": 0,
        "data": {"name": "digits", "limit": 60},
        "tasks": [{"name": "parity", "kind": "binary", "observables": ["Z0", "Z1"]}],
        "model": {"n_qubits": 2, "encoder": {"hidden": [4]}, "ansatz": {"layers": 1}},
        # ~5.3 s estimated per full step (208 rows = 16 x (1 + 2 x (2 inputs + 4 live angles))
        # x 64 shots x 250 us + 2 s), ~3.5 s for the last 7 examples: 2 steps fit, not 3.
        "device": {"name": "ibm:ibm_manila", "mode": "session", "shots": 64,
                   "qpu_budget_seconds": 12},
        "training": {"epochs": 1, "batch_size": 16, "checkpoint_every": 1,
                     "conflict_diagnostic": False},
    }


def test_budget_stops_training_and_resume_with_a_larger_one_finishes(
        capsys, monkeypatch, hardware_config, write_config, tmp_path):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    opened = []
    monkeypatch.setattr(targets, "ibm_backend", lambda name: opened.append(name) or FakeManilaV2())
    run = tmp_path / "run"
    code = main(["train", str(write_config(hardware_config)), "--out", str(run), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "QPU budget spent" in err and "qmtl train --resume" in err, err
    assert opened == ["ibm_manila"]
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert state["training"]["global_step"] == 2  # the steps that fitted are checkpointed

    config = yaml.safe_load((run / "config.yaml").read_text())
    config["device"]["qpu_budget_seconds"] = 1000
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert json.loads((run / "status.json").read_text())["state"] == "complete"
    assert json.loads((run / "final.json").read_text())["steps"] == 3
    assert not [p for p in run.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]


def test_device_counts_qpu_seconds_against_the_budget(monkeypatch):
    import pennylane as qml

    device, diff_method = build_device(
        DeviceConfig(name="fake_manila", shots=100, qpu_budget_seconds=2.5), 1, seed=0)

    @qml.qnode(device, diff_method=diff_method)
    def circuit(x):
        qml.RY(x, wires=0)
        return qml.expval(qml.Z(0))

    circuit(0.3)  # 2 s overhead + 100 shots x ~250 us
    assert 2.0 < device.qpu_seconds < 2.5 and device.primitive_calls == 1
    with pytest.raises(UserError, match="QPU budget spent"):
        circuit(0.4)
    assert device.primitive_calls == 1  # refused before sending


@pytest.mark.parametrize("config", [DeviceConfig(name="aer", qpu_budget_seconds=10),
                                    DeviceConfig(name="fake_manila", qpu_budget_seconds=0)])
def test_budget_needs_a_runtime_device_and_a_positive_value(config):
    with pytest.raises(UserError, match="qpu_budget_seconds"):
        build_device(config, 1, seed=0)
