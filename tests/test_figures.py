"""Every figure script's ``--quick`` mode writes its PNG, PDF and the CSV behind the plot."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "experiments" / "figures"


def quick(name: str, tmp_path: Path) -> list[dict[str, str]]:
    """Run ``<name>.py --quick`` into ``tmp_path``; check the three files; return the CSV rows."""
    out = tmp_path / "out"
    subprocess.run([sys.executable, str(FIGURES / f"{name}.py"), "--quick", "--out", str(out),
                    "--runs", str(tmp_path / "runs")], cwd=tmp_path, check=True, timeout=540)
    for suffix in ("png", "pdf", "csv"):
        assert (out / f"{name}.{suffix}").stat().st_size > 0
    with (out / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_f1_one_row_per_dataset_task_architecture_and_a_paired_row_per_task(tmp_path: Path) -> None:
    rows = quick("f1_mtl_vs_stl", tmp_path)
    tasks = {"digits": ["digit", "parity", "ge5"], "multidigits": ["left", "right"], "quantum-teacher": ["t0", "t1"]}
    means = [r for r in rows if r["kind"] == "mean"]
    keys = {(r["dataset"], r["task"], r["architecture"]) for r in means}
    assert keys == {(d, t, a) for d, ts in tasks.items() for t in ts for a in ("hard_sharing", "single_task")}
    assert len(means) == len(keys)
    assert all(0 <= float(r["mean"]) <= 1 and r["seeds"] == "1" for r in means)
    # one seed: no interval is known, NaN bounds (not a zero-width error bar); one epoch: still improving
    assert all(math.isnan(float(r["ci95_low"])) and math.isnan(float(r["ci95_high"])) for r in means)
    assert all((r["best_epochs"], r["epochs_run"], r["still_improving"]) == ("1", "1", "1") for r in means)
    paired = {(r["dataset"], r["task"]): r for r in rows if r["kind"] == "paired"}
    assert set(paired) == {(d, t) for d, ts in tasks.items() for t in ts}
    for (dataset, task), row in paired.items():
        shared, single = (next(float(r["mean"]) for r in means if (r["dataset"], r["task"], r["architecture"])
                               == (dataset, task, arch)) for arch in ("hard_sharing", "single_task"))
        assert float(row["difference"]) == pytest.approx(shared - single)
        assert math.isnan(float(row["p_value"]))  # one pair: no test


def test_f2_reads_the_measured_label_correlation_of_every_run(tmp_path: Path) -> None:
    rows = quick("f2_correlation", tmp_path)
    means = [r for r in rows if r["kind"] == "mean"]
    keys = {(r["architecture"], float(r["correlation"]), r["task"]) for r in means}
    assert keys == {(a, c, t) for a in ("hard_sharing", "single_task", "qmoe") for c in (1.0, 0.0)
                    for t in ("t0", "t1", "mean")}
    assert len(means) == len(keys)
    assert all(float(r["mean"]) > 0 for r in means)
    # x-axis: the measured label correlation of the run's data (final.json), not the weight cosine
    from qmtl.data.synthetic_correlated import label_correlation, load_synthetic_correlated

    for r in means:
        options = {"correlation": float(r["correlation"]), "n_samples": 200, "seed": 0}
        expected = label_correlation(load_synthetic_correlated(options).targets)
        assert float(r["label_correlation"]) == pytest.approx(expected, abs=1e-5)  # float32 targets
        assert float(r["label_correlations"]) == pytest.approx(expected, abs=1e-4)  # one seed, 4 decimals
    paired = {(r["architecture"], float(r["correlation"])) for r in rows if r["kind"] == "paired"}
    assert paired == {(f"{a} - {b}", c) for a, b in (("hard_sharing", "single_task"), ("qmoe", "single_task"),
                                                   ("qmoe", "hard_sharing")) for c in (1.0, 0.0)}


def test_f3_counts_match_the_stated_construction(tmp_path: Path) -> None:
    rows = quick("f3_head_parameters", tmp_path)
    heads = {(r["model"], int(r["tasks"])): int(r["heads"]) for r in rows}
    assert len(heads) == len(rows) == 4 * 4
    for t in (1, 2, 4, 8):
        assert heads[("classical, capacity-matched width n*T", t)] == t * (4 * t + 1)  # quadratic
        assert heads[("classical, fixed width n", t)] == t * 5
        assert heads[("quantum hard sharing", t)] == t * 5
        assert heads[("quantum ansatz heads", t)] == t * heads[("quantum ansatz heads", 1)]  # linear
    # per head: 4 RY angles (the 4 RZ angles before Z words are dead, not counted) + 4 x 1 readout
    assert heads[("quantum ansatz heads", 1)] == 4 + 5


def test_f4_one_row_per_chosen_strategy_and_the_baseline(tmp_path: Path) -> None:
    rows = quick("f4_delta_m", tmp_path)
    strategies = {("weighting", "equal"), ("weighting", "uncertainty"), ("aggregator", "pcgrad")}
    assert {(r["kind"], r["strategy"]) for r in rows} == strategies | {("baseline", "single_task")}
    assert len(rows) == len(strategies) + 1
    scored = [r for r in rows if r["kind"] != "baseline"]
    assert all(r["mean"] not in ("", "nan") for r in scored)
    equal = next(r for r in scored if r["strategy"] == "equal")
    assert float(equal["difference_vs_equal"]) == 0.0  # equal against itself


def test_f5_rows_per_evaluation_task_comparison_and_trained_model(tmp_path: Path) -> None:
    rows = quick("f5_noise", tmp_path)
    tasks = {"digit", "parity", "ge5", "mean"}
    evaluated = [r for r in rows if r["kind"] == "evaluation"]
    evaluations = {(r["trained"], r["shots"], r["noise"]) for r in evaluated}
    assert evaluations == {("exact", "exact", "none"), ("exact", "16", "none"), ("exact", "1024", "none"),
                           ("exact", "1024", "fake_manila"), ("exact", "1024", "fake_lima"),
                           ("noisy", "exact", "none"), ("noisy", "1024", "fake_manila")}
    assert {(r["trained"], r["shots"], r["noise"], r["task"]) for r in evaluated} == \
        {(*evaluation, task) for evaluation in evaluations for task in tasks}
    assert len(evaluated) == len(evaluations) * len(tasks)
    # the "mean" task is the mean of the three tasks' accuracies (one seed in --quick)
    by_key = {(r["trained"], r["shots"], r["noise"], r["task"]): float(r["mean"]) for r in evaluated}
    for evaluation in evaluations:
        three = [by_key[(*evaluation, task)] for task in ("digit", "parity", "ge5")]
        assert by_key[(*evaluation, "mean")] == pytest.approx(sum(three) / 3)
    paired = {(r["comparison"], r["trained"], r["shots"], r["noise"], r["trained_b"], r["shots_b"], r["noise_b"])
              for r in rows if r["kind"] == "paired"}
    exact = ("exact", "exact", "none")
    assert paired == {("shot noise", "exact", "16", "none", *exact), ("shot noise", "exact", "1024", "none", *exact),
                      ("device noise", "exact", "1024", "fake_manila", *exact),
                      ("device noise", "exact", "1024", "fake_lima", *exact),
                      ("noise-trained vs exact-trained, on the noisy device", "noisy", "1024", "fake_manila",
                       "exact", "1024", "fake_manila"),
                      ("noise-trained vs exact-trained, evaluated exactly", "noisy", "exact", "none", *exact),
                      ("noise-trained: noisy device vs exact", "noisy", "1024", "fake_manila",
                       "noisy", "exact", "none")}
    assert len([r for r in rows if r["kind"] == "paired"]) == len(paired) * len(tasks)
    # a paired difference is the difference of the two evaluations' accuracies (one seed: no p-value)
    for r in (r for r in rows if r["kind"] == "paired"):
        a = by_key[(r["trained"], r["shots"], r["noise"], r["task"])]
        b = by_key[(r["trained_b"], r["shots_b"], r["noise_b"], r["task"])]
        assert float(r["difference"]) == pytest.approx(a - b)
        assert math.isnan(float(r["p_value"]))
    training = {r["trained"]: r for r in rows if r["kind"] == "training"}
    assert set(training) == {"exact", "noisy"}
    assert all((r["best_epochs"], r["epochs_run"], r["still_improving"]) == ("1", "1", "1") for r in training.values())


def test_f6_one_row_per_setting_seed_and_epoch_and_a_summary_per_pair(tmp_path: Path) -> None:
    rows = quick("f6_learning_curves", tmp_path)
    epochs = [r for r in rows if r["kind"] == "epoch"]
    assert [(r["setting"], r["seed"], r["epoch"]) for r in epochs] == \
        [(s, "0", e) for s in ("digits", "synthetic, correlation -0.5") for e in ("1", "2")]
    assert all(-1 <= float(r["cos.mean_off_diagonal"]) <= 1 for r in epochs)
    assert {"val.digit", "val.t0", "cos.digit-parity", "cos.t0-t1"} <= set(epochs[0])
    pairs = {(r["setting"], r["pair"]): r for r in rows if r["kind"] == "pair"}
    assert set(pairs) == {("digits", p) for p in ("digit-parity", "digit-ge5", "parity-ge5", "mean_off_diagonal")} \
        | {("synthetic, correlation -0.5", p) for p in ("t0-t1", "mean_off_diagonal")}
    # the summary is the cosine averaged over the epochs
    digits = [r for r in epochs if r["setting"] == "digits"]
    expected = sum(float(r["cos.parity-ge5"]) for r in digits) / len(digits)
    assert float(pairs["digits", "parity-ge5"]["mean"]) == pytest.approx(expected)


def test_f7_measured_recorded_and_ratio_rows_are_labelled(tmp_path: Path) -> None:
    rows = quick("f7_throughput", tmp_path)
    bars = [r for r in rows if r["source"] != "ratio"]
    assert [(r["target"], r["implementation"]) for r in bars] == [
        ("default.qubit", "qmtl hard sharing"), ("default.qubit", "PennyLane TorchLayer"),
        ("aer (exact)", "qmtl EstimatorDevice"), ("aer (exact)", "raw Aer EstimatorV2 (rows only)"),
        ("aer (exact)", "pennylane-qiskit qiskit.aer")]
    assert [r["source"] for r in bars][:4] == ["measured"] * 4
    assert bars[4]["source"].startswith("recorded") and float(bars[4]["step_s"]) == 197.0
    assert all(float(r["samples_per_s"]) > 0 for r in bars)
    ratios = [r for r in rows if r["source"] == "ratio"]
    assert [r["implementation"] for r in ratios] == ["PennyLane TorchLayer / qmtl hard sharing",
                                                     "qmtl EstimatorDevice / raw Aer EstimatorV2 (rows only)"]
    for r in ratios:  # the median per-round ratio lies in its interval (the full range for 3 rounds)
        assert 0 < float(r["ratio_ci95_low"]) <= float(r["ratio"]) <= float(r["ratio_ci95_high"])
