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
from scipy import stats

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


def test_t_interval_is_the_student_t_interval_of_the_mean() -> None:
    common = _figures_common()
    # 1..5: mean 3, s^2 = 2.5, standard error sqrt(0.5); t_{0.975, 4} = 2.776445
    interval = common.t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert interval.mean == 3.0 and interval.n == 5
    assert interval.half_width == pytest.approx(2.776445 * math.sqrt(0.5), rel=1e-6)
    assert (interval.low, interval.high) == pytest.approx(stats.t.interval(0.95, 4, loc=3.0, scale=math.sqrt(0.5)))
    assert interval.covers(3.0) and not interval.covers(5.0)
    one = common.t_interval([0.7])  # one seed: a mean, no interval
    assert one.mean == 0.7 and math.isnan(one.low) and math.isnan(one.high) and not one.covers(0.7)


def test_paired_test_is_students_paired_t_test() -> None:
    common = _figures_common()
    # differences 1, 2, 3: mean 2, s = 1, t = 2 sqrt(3) on 2 degrees of freedom, where the
    # t distribution has the closed form F(t) = 1/2 + t / (2 sqrt(2 + t^2)); so the two-sided
    # p = 1 - t / sqrt(2 + t^2) and t_{0.975, 2} = sqrt(1.805 / 0.0975)
    a, b = [2.0, 4.0, 6.0], [1.0, 2.0, 3.0]
    test = common.paired_test(a, b)
    t = 2 * math.sqrt(3)
    assert test.p_value == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-9)
    assert test.difference.mean == 2.0
    assert test.difference.half_width == pytest.approx(math.sqrt(1.805 / 0.0975) / math.sqrt(3), rel=1e-9)
    scipy_result = stats.ttest_rel(a, b)
    assert test.p_value == pytest.approx(scipy_result.pvalue, rel=1e-12)
    assert (test.difference.low, test.difference.high) == pytest.approx(tuple(scipy_result.confidence_interval()))
    # the pairing matters: the same values unpaired would not be compared seed by seed
    assert common.paired_test(b, a).difference.mean == -2.0
    assert math.isnan(common.paired_test([1.0, 2.0], [1.0, 2.0]).p_value)  # identical pairs: nothing to test
    columns = common.paired_columns(a, b)
    assert (columns["difference"], columns["pairs"]) == (2.0, 3) and columns["p_value"] == test.p_value
    with pytest.raises(ValueError, match="as many values"):
        common.paired_test([1.0, 2.0], [1.0])


def test_convergence_counts_runs_whose_best_epoch_was_their_last(tmp_path: Path) -> None:
    common = _figures_common()

    def run(seed: int, best: int, last: int) -> object:
        return common.Trained("x", seed, tmp_path, {"best_epoch": best, "epochs_run": last}, {})

    runs = [run(0, 7, 12), run(1, 30, 30), run(2, 29, 30)]
    assert [common.still_improving(r) for r in runs] == [False, True, False]
    assert common.convergence(runs) == {"best_epochs": "7 30 29", "epochs_run": "12 30 30", "still_improving": 1}
    assert common.by_seed(runs, "x")[1] is runs[1] and common.by_seed(runs, "y") == {}
