"""The figure scripts' runs are ``qmtl sweep`` runs: same directories, same aggregate."""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import statistics
import sys
from pathlib import Path

import pytest
import yaml

from qmtl.cli import main
from qmtl.errors import UserError
from qmtl.sweep import mean_std, sweep_of_runs


def _figures_common():
    """``experiments/figures/common.py`` under a private module name: importing it as
    ``common`` would shadow the scripts' own ``common`` for later tests (tests/test_docs.py
    runs figure scripts in a scratch copy, which must write there, not into docs/figures)."""
    path = Path(__file__).resolve().parents[1] / "experiments" / "figures" / "common.py"
    spec = importlib.util.spec_from_file_location("qmtl_test_figures_common", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


run_grid = _figures_common().run_grid

# 60 digits, 2 qubits, 1 layer, 1 epoch: a run takes about a second.
TINY_RUN = {
    "seed": 0,
    "data": {"name": "digits", "limit": 60},
    "tasks": [
        {"name": "parity", "kind": "binary", "observables": ["Z0", "Z1"]},
        {"name": "ge5", "kind": "binary", "observables": ["Z0 Z1"]},
    ],
    "model": {"n_qubits": 2, "encoder": {"hidden": [4]}, "ansatz": {"layers": 1}},
    "training": {"epochs": 1, "batch_size": 64, "conflict_diagnostic": False},
}
RATES = [0.01, 0.05]


@pytest.mark.parametrize("seeds", [[0], [0, 1]], ids=["one-seed", "two-seeds"])
def test_figure_grid_and_qmtl_sweep_agree(tmp_path: Path, seeds: list[int],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    sweep_file = tmp_path / "rates.yaml"
    sweep_file.write_text(yaml.safe_dump({"config": TINY_RUN, "grid": {"training.lr": RATES}, "seeds": seeds}))
    assert main(["sweep", str(sweep_file), "--out", str(out)]) == 0
    with (out / "summary.csv").open(newline="", encoding="utf-8") as handle:
        cli = {float(row["training.lr"]): row for row in csv.DictReader(handle)}

    # Labelled as qmtl sweep names its runs, the figure path finds the sweep's runs complete
    # with the config it resolves itself, and trains nothing.
    capsys.readouterr()
    trained = run_grid(TINY_RUN, {f"training.lr={lr}": {"training.lr": lr} for lr in RATES}, seeds, out)
    assert f"0 trained, {len(RATES) * len(seeds)} reused" in capsys.readouterr().out
    assert [(t.label, t.seed) for t in trained] == [(f"training.lr={lr}", s) for lr in RATES for s in seeds]
    for t in trained:
        expected = cli[float(t.label.removeprefix("training.lr="))]
        for column in ("test.parity.accuracy", "test.ge5.accuracy"):
            for statistic in ("mean", "std"):
                figure_value, cli_value = t.summary[f"{column}.{statistic}"], float(expected[f"{column}.{statistic}"])
                assert figure_value == pytest.approx(cli_value, rel=1e-12, nan_ok=True)
            # one seed: no spread is known, NaN in both (not the 0.0 the figures once wrote)
            assert math.isnan(t.summary[f"{column}.std"]) == (len(seeds) == 1)


def test_sweep_of_runs_names_runs_by_label_and_refuses_what_qmtl_sweep_refuses(tmp_path: Path) -> None:
    sweep = sweep_of_runs("labels", TINY_RUN, [("fast", {"training.lr": 0.05}, 0), ("slow lr", {}, 1)], tmp_path)
    fast, slow = (Path(run.path).name for run in sweep.runs)
    # a label with characters unsafe in a folder name is made safe, with a hash that keeps it distinct
    assert fast == "fast,seed=0" and re.fullmatch(r"slow_lr,seed=1-[0-9a-f]{8}", slow)
    assert [run.config.seed for run in sweep.runs] == [0, 1] and sweep.override_keys == ["training.lr"]
    with pytest.raises(UserError, match="expands to run 'fast,seed=0' twice"):
        sweep_of_runs("twice", TINY_RUN, [("fast", {}, 0), ("fast", {"training.lr": 0.05}, 0)], tmp_path)
    with pytest.raises(UserError, match="sweep 'bad', run fast,seed=0: .*training.lr"):
        sweep_of_runs("bad", TINY_RUN, [("fast", {"training.lr": "quick"}, 0)], tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="is a file"):
        sweep_of_runs("file", TINY_RUN, [("fast", {}, 0)], tmp_path / "file")
    assert not any(path.is_dir() for path in tmp_path.iterdir())  # nothing written before run_sweep


def test_mean_std_is_the_sample_std_and_nan_for_one_value() -> None:
    mean, std = mean_std([1.0, 2.0, 4.0])
    assert mean == pytest.approx(7 / 3) and std == pytest.approx(statistics.stdev([1.0, 2.0, 4.0]))
    mean, std = mean_std([0.5])
    assert mean == 0.5 and math.isnan(std)
