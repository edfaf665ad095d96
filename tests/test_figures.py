"""Every figure script's ``--quick`` mode writes its PNG, PDF and the CSV behind the plot."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "experiments" / "figures"


def quick(name: str, tmp_path: Path) -> list[dict[str, str]]:
    """Run ``<name>.py --quick`` into ``tmp_path``; check the three files; return the CSV rows."""
    out = tmp_path / "out"
    subprocess.run([sys.executable, str(FIGURES / f"{name}.py"), "--quick", "--out", str(out),
                    "--runs", str(tmp_path / "runs")], cwd=tmp_path, check=True, timeout=300)
    for suffix in ("png", "pdf", "csv"):
        assert (out / f"{name}.{suffix}").stat().st_size > 0
    with (out / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_f1_one_row_per_dataset_task_architecture(tmp_path: Path) -> None:
    rows = quick("f1_mtl_vs_stl", tmp_path)
    keys = {(r["dataset"], r["task"], r["architecture"]) for r in rows}
    tasks = {"digits": ["digit", "parity", "ge5"], "multidigits": ["left", "right"], "quantum-teacher": ["t0", "t1"]}
    assert keys == {(d, t, a) for d, ts in tasks.items() for t in ts for a in ("hard_sharing", "single_task")}
    assert len(rows) == len(keys)
    assert all(0 <= float(r["mean"]) <= 1 and r["seeds"] == "1" for r in rows)
    # one seed: qmtl.sweep's std is NaN (no spread known), not a zero-width error bar
    assert all(math.isnan(float(r["std"])) for r in rows)


def test_f2_one_row_per_architecture_correlation_task(tmp_path: Path) -> None:
    rows = quick("f2_correlation", tmp_path)
    keys = {(r["architecture"], float(r["correlation"]), r["task"]) for r in rows}
    assert keys == {(a, c, t) for a in ("hard_sharing", "single_task", "qmoe") for c in (1.0, 0.0)
                    for t in ("t0", "t1", "mean")}
    assert len(rows) == len(keys)
    assert all(float(r["mean"]) > 0 for r in rows)
    # x-axis: the measured label correlation of the run's data, not the weight cosine
    from qmtl.data.synthetic_correlated import label_correlation, load_synthetic_correlated

    for r in rows:
        options = {"correlation": float(r["correlation"]), "n_samples": 200, "seed": 0}
        expected = label_correlation(load_synthetic_correlated(options).targets)
        assert abs(float(r["label_correlation"]) - expected) < 1e-9
        assert abs(float(r["label_correlations"]) - expected) < 1e-4  # one seed, 4 decimals


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


def test_f4_one_row_per_strategy(tmp_path: Path) -> None:
    from qmtl.strategies import AGGREGATORS, WEIGHTINGS

    rows = quick("f4_delta_m", tmp_path)
    assert {(r["kind"], r["strategy"]) for r in rows} == \
        {("weighting", w) for w in WEIGHTINGS} | {("aggregator", a) for a in AGGREGATORS}
    assert len(rows) == len(WEIGHTINGS) + len(AGGREGATORS)
    assert all(r["delta_m_percent"] not in ("", "nan") for r in rows)


def test_f5_rows_per_evaluation_and_task(tmp_path: Path) -> None:
    rows = quick("f5_noise", tmp_path)
    evaluations = {(r["trained"], r["shots"], r["noise"]) for r in rows}
    assert evaluations == {("exact", "exact", "none"), ("exact", "16", "none"), ("exact", "1024", "none"),
                           ("exact", "1024", "fake_manila"), ("exact", "1024", "fake_lima"),
                           ("noisy", "exact", "none"), ("noisy", "1024", "fake_manila")}
    assert len(rows) == 3 * len(evaluations)


def test_f6_one_row_per_setting_and_epoch(tmp_path: Path) -> None:
    rows = quick("f6_learning_curves", tmp_path)
    assert [(r["setting"], r["epoch"]) for r in rows] == \
        [(s, e) for s in ("digits", "synthetic, correlation -0.5") for e in ("1", "2")]
    assert all(-1 <= float(r["cos.mean_off_diagonal"]) <= 1 for r in rows)
    assert {"val.digit", "val.t0", "cos.digit-parity", "cos.t0-t1"} <= set(rows[0])


def test_f7_measured_and_recorded_rows_are_labelled(tmp_path: Path) -> None:
    rows = quick("f7_throughput", tmp_path)
    assert [(r["target"], r["implementation"]) for r in rows] == [
        ("default.qubit", "qmtl hard sharing"), ("default.qubit", "PennyLane TorchLayer"),
        ("aer (exact)", "qmtl EstimatorDevice"), ("aer (exact)", "raw Aer EstimatorV2 (rows only)"),
        ("aer (exact)", "pennylane-qiskit qiskit.aer")]
    assert [r["source"] for r in rows][:4] == ["measured"] * 4
    assert rows[4]["source"].startswith("recorded") and float(rows[4]["step_s"]) == 197.0
    assert all(float(r["samples_per_s"]) > 0 for r in rows)
