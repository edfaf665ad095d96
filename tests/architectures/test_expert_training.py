"""cgc, ple and dselect_k train from config: on Aer (each level of experts one Estimator call),
and with their gates recorded per epoch."""

from __future__ import annotations

import json
import math

import pytest

from qmtl.config import validate_config
from qmtl.rundir import RunDir
from qmtl.training import Trainer


@pytest.mark.parametrize(("architecture", "options", "calls_per_step"), [
    ("cgc", {"shared_experts": 1, "task_experts": 1}, 1),
    ("ple", {"levels": 2, "shared_experts": 1, "task_experts": 1}, 2),
    ("dselect_k", {"experts": 3, "k": 2, "entropy": 0.01}, 1),
])
def test_trains_one_epoch_on_aer(tiny_config, tmp_path, architecture, options, calls_per_step):
    tiny_config["data"]["limit"] = 40
    tiny_config["training"].update(epochs=1, batch_size=12, conflict_diagnostic=False)
    tiny_config["device"] = {"name": "aer"}
    tiny_config["model"].update(architecture=architecture, options=options)
    trainer = Trainer(validate_config(tiny_config), RunDir(tmp_path / "run"), progress=False)
    device = trainer.device
    calls: list[int] = []
    trainer.on_step = lambda step: calls.append(device.primitive_calls)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    final = trainer.run()
    assert final["device"] == "aer" and final["epochs_run"] == 1
    assert all(math.isfinite(final["test"][task["name"]]["loss"]) for task in tiny_config["tasks"])
    # forward, parameter-shift rows and backward of a level: one call (the first step may
    # follow set-up calls, so count between steps)
    assert [b - a for a, b in zip(calls, calls[1:])] == [calls_per_step] * (len(calls) - 1) and len(calls) >= 2
    assert all(not p.detach().equal(b) for p, b in zip(trainer.model.parameters(), before))  # every parameter moved


@pytest.mark.parametrize(("architecture", "options", "maps"), [
    ("cgc", {}, {"expert_gates"}),
    ("ple", {"levels": 3}, {"expert_gates_level1", "expert_gates_level2", "expert_gates", "shared_expert_gates"}),
    ("dselect_k", {"gate": "static"}, {"expert_gates"}),
])
def test_gates_are_recorded_per_epoch(tiny_config, tmp_path, architecture, options, maps):
    tiny_config["data"]["limit"] = 100
    tiny_config["training"].update(epochs=2, conflict_diagnostic=False)
    tiny_config["model"].update(architecture=architecture, options=options)
    trainer = Trainer(validate_config(tiny_config), RunDir(tmp_path / "run"), progress=False)
    trainer.run()
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 2
    for record in records:
        assert set(record["attention"]) == maps
        for rows in record["attention"].values():
            for row in rows.values():
                assert sum(row.values()) == pytest.approx(1.0, abs=1e-6)
    # the gates are learnt: their recorded means move between epochs
    first, second = (record["attention"]["expert_gates"] for record in records)
    assert first != second
