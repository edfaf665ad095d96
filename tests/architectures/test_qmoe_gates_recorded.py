"""qmoe records each task's mean gate over the experts per epoch, like the other expert models."""

import json

import pytest

from qmtl.config import validate_config
from qmtl.run import build_run
from qmtl.training import train
from tests.tiny_configs import TINY


def qmoe_config(epochs: int = 1) -> dict:
    return {**TINY, "model": {**TINY["model"], "architecture": "qmoe", "options": {"experts": 3}},
            "training": {**TINY["training"], "epochs": epochs}}


def test_attention_maps_are_the_mean_gates():
    with build_run(validate_config(qmoe_config())) as run:
        features = run.require_data().val.features
        maps = run.model.attention_maps(features)["expert_gates"]
        gates = run.model.gate_weights(features)
    assert set(maps) == set(gates)
    for task, gate in gates.items():
        assert list(maps[task]) == ["expert0", "expert1", "expert2"]
        assert sum(maps[task].values()) == pytest.approx(1.0)
        assert list(maps[task].values()) == pytest.approx(gate.mean(dim=0).tolist(), abs=1e-6)


def test_gates_are_recorded_per_epoch(tmp_path):
    train(validate_config(qmoe_config(epochs=2)), tmp_path / "run", progress=False)
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    epochs = [line for line in lines if "attention" in line]
    assert len(epochs) == 2
    assert all(set(line["attention"]["expert_gates"]) == {"digit", "parity", "ge5"} for line in epochs)
