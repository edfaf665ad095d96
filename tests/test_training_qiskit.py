"""The digits example trains end to end on Qiskit targets, one Estimator call per step."""

import json

import pytest
from tiny_configs import interrupted_run

from qmtl.cli import main
from qmtl.config import validate_config
from qmtl.rundir import RunDir
from qmtl.training import Trainer


def _small(tiny_config):
    tiny_config["data"]["limit"] = 80
    tiny_config["training"].update(epochs=1, batch_size=32, conflict_diagnostic=False)
    return tiny_config


def test_one_estimator_call_per_training_step_on_aer(tiny_config, tmp_path):
    raw = _small(tiny_config)
    raw["device"] = {"name": "aer"}
    trainer = Trainer(validate_config(raw), RunDir(tmp_path / "run"), progress=False)
    device = trainer.model.circuit.qnode.device
    calls = []
    trainer.on_step = lambda step: calls.append(device.primitive_calls)
    trainer.run()
    assert len(calls) == 2  # 48 training rows / 32 per batch
    assert calls == [1, 2]  # forward, shift rows and backward of a step: one call
    assert device.transpilations == 1  # one circuit structure per run


@pytest.mark.parametrize("device", [
    ["--set", "device.name=aer", "--set", "device.shots=2000"],
    ["--set", "device.name=aer", "--set", "device.shots=2000", "--set", "device.noise=fake_manila"],
])
def test_cli_trains_on_aer_with_shots_and_noise(tiny_config, write_config, tmp_path, device, capsys):
    out = tmp_path / "run"
    assert main(["train", str(write_config(_small(tiny_config))), "--out", str(out), "--quiet", *device]) == 0
    final = json.loads((out / "final.json").read_text())
    assert final["device"] == "aer"
    assert 0.0 <= final["test"]["parity"]["accuracy"] <= 1.0
    assert "parity" in capsys.readouterr().out


def test_resume_on_a_shot_based_device_matches_an_uninterrupted_run(tiny_config, tmp_path):
    raw = _small(tiny_config)
    raw["data"]["limit"] = 120
    raw["device"] = {"name": "aer", "shots": 1000}
    raw["training"].update(epochs=2, batch_size=24, checkpoint_every=1)
    full = Trainer(validate_config(raw), RunDir(tmp_path / "full"), progress=False).run()

    run = RunDir(tmp_path / "cut")
    interrupted_run(raw, run, at_step=5)
    resumed = Trainer(validate_config(raw), run, progress=False).run(resume=True)
    assert resumed["test"] == full["test"]
