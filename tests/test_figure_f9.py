"""F9 --quick: every registered architecture on every setting, Δm% against single-task recomputed
from the runs, paired tests against hard sharing with Benjamini-Hochberg q-values."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from qmtl.architectures import ARCHITECTURES
from qmtl.evaluation import delta_m_against

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"correlation=0.5": ("correlation-0.5", ["t0", "t1"], "mse"),
            "quantum-teacher": ("quantum-teacher", ["t0", "t1"], "accuracy")}
SEEDS = (0, 1)
# About a minute; the default suite runs the same --quick command from docs/results.md.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_f9(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], Path]:
    tmp = tmp_path_factory.mktemp("f9")
    out, runs = tmp / "out", tmp / "runs"
    subprocess.run([sys.executable, str(ROOT / "experiments" / "figures" / "f9_architectures.py"), "--quick",
                    "--out", str(out), "--runs", str(runs)], cwd=tmp, check=True, timeout=900)
    for suffix in ("png", "pdf", "csv"):
        assert (out / f"f9_architectures.{suffix}").stat().st_size > 0
    with (out / "f9_architectures.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle)), runs


def _final(runs: Path, setting: str, architecture: str, seed: int) -> dict:
    folder = runs / SETTINGS[setting][0] / f"{architecture},seed={seed}"
    return json.loads((folder / "final.json").read_text())


def _scores(final: dict) -> dict[str, dict[str, float]]:
    """The metrics F9's Δm% uses: not the loss, not R² (unbounded relative gain near 0)."""
    return {task: {k: v for k, v in values.items() if k in ("mse", "mae", "accuracy", "macro_f1")}
            for task, values in final["test"].items()}


def test_every_registered_architecture_on_every_setting(quick_f9):
    rows, runs = quick_f9
    for setting, (_, tasks, primary) in SETTINGS.items():
        task_rows = {(r["architecture"], r["task"], r["metric"]) for r in rows
                     if r["setting"] == setting and r["kind"] == "task"}
        assert task_rows == {(a, t, m) for a in ARCHITECTURES for t in tasks for m in ("loss", primary)}
        for row in rows:
            if row["setting"] == setting and row["kind"] == "task":
                values = [_final(runs, setting, row["architecture"], s)["test"][row["task"]][row["metric"]]
                          for s in SEEDS]
                assert float(row["mean"]) == pytest.approx(sum(values) / 2, abs=1e-9)
                assert float(row["ci95_low"]) <= float(row["mean"]) <= float(row["ci95_high"])
                final = _final(runs, setting, row["architecture"], 0)
                assert int(row["params_total"]) == final["parameters"]["total"]


def test_delta_m_is_against_single_task_of_the_same_seed(quick_f9):
    rows, runs = quick_f9
    for setting in SETTINGS:
        gains = {r["architecture"]: r for r in rows if r["setting"] == setting and r["kind"] == "delta_m"}
        assert set(gains) == set(ARCHITECTURES)
        assert [float(v) for v in gains["single_task"]["values"].split()] == [0.0, 0.0]
        for architecture, row in gains.items():
            expected = [delta_m_against(_scores(_final(runs, setting, architecture, s)),
                                        _scores(_final(runs, setting, "single_task", s))) for s in SEEDS]
            assert [float(v) for v in row["values"].split()] == pytest.approx(expected, abs=1e-3)


def test_paired_tests_against_hard_sharing_with_q_values(quick_f9):
    rows, _ = quick_f9
    for setting in SETTINGS:
        tests = [r for r in rows if r["setting"] == setting and r["kind"] == "vs_hard_sharing"]
        assert {r["architecture"] for r in tests} == set(ARCHITECTURES) - {"hard_sharing"}
        for row in tests:
            assert int(row["pairs"]) == len(SEEDS)
            p, q = float(row["p_value"]), float(row["q_value"])
            assert math.isnan(p) == math.isnan(q)
            if not math.isnan(p):
                assert 0 <= p <= q <= 1  # Benjamini-Hochberg never lowers a p-value
