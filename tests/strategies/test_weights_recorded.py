"""The trainer records the epoch's mean task weights in metrics.jsonl (None when a method has none)."""

from __future__ import annotations

import json

import pytest

from qmtl.config import validate_config
from qmtl.rundir import RunDir
from qmtl.training import train


def _records(tiny_config, tmp_path, **training):
    tiny_config["data"]["limit"] = 120
    tiny_config["training"].update(epochs=2, batch_size=32, conflict_diagnostic=False, **training)
    run = RunDir(tmp_path / "run")
    train(validate_config(tiny_config), run, progress=False)
    return [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]


def test_static_weights_are_recorded_per_task(tiny_config, tmp_path) -> None:
    records = _records(tiny_config, tmp_path, weighting="static", weighting_options={"weights": [1.5, 1.0, 0.5]})
    assert [r["weights"] for r in records] == [{"digit": 1.5, "parity": 1.0, "ge5": 0.5}] * 2


def test_rlw_weights_are_a_mean_of_softmax_draws(tiny_config, tmp_path) -> None:
    records = _records(tiny_config, tmp_path, weighting="rlw")
    for record in records:
        assert sum(record["weights"].values()) == pytest.approx(1.0)  # mean of softmax draws
    assert records[0]["weights"] != records[1]["weights"]


def test_unweighted_aggregator_records_none(tiny_config, tmp_path) -> None:
    records = _records(tiny_config, tmp_path, aggregator="graddrop")
    assert all(r["weights"] is None for r in records)
