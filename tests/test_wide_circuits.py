"""Wide circuits on ``default.qubit`` within ``training.max_state_memory`` (slow: run with ``-m slow``).

A 16-qubit model trains an epoch in chunks; one 20-qubit training step, in its own process,
stays within its memory budget (peak resident set size measured by
``experiments/benchmarks/bench_wide.py``)."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from tiny_configs import TINY

from qmtl.config import validate_config
from qmtl.rundir import RunDir
from qmtl.training import Trainer

BENCH = Path(__file__).resolve().parents[1] / "experiments" / "benchmarks" / "bench_wide.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_qmtl_bench_wide", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_16_qubit_model_trains_an_epoch_in_chunks(tmp_path: Path) -> None:
    raw = copy.deepcopy(TINY)
    raw["data"]["limit"] = 60
    raw["model"].update(n_qubits=16, ansatz={"layers": 1})
    raw["training"].update(epochs=1, batch_size=16, max_state_memory="64MiB")
    trainer = Trainer(validate_config(raw), RunDir(tmp_path / "run"), progress=False)
    assert 1 <= trainer.memory.training_chunk < 16  # the budget splits every full batch
    final = trainer.run()
    assert final["epochs_run"] == 1 and final["steps"] >= 2
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "complete"
    for task, metrics in final["test"].items():
        assert metrics["loss"] == metrics["loss"] and metrics["loss"] < 1e3, task  # finite


@pytest.mark.slow
def test_a_20_qubit_step_stays_within_its_budget() -> None:
    bench = _bench()
    budget = 2**30
    result = bench.measure(bench.config(20, layers=1, batch=8, budget=budget))
    assert result["budget"] == budget
    assert result["chunk"] < 8  # one pass over the batch would not fit
    assert 0 < result["peak"] <= budget, result
