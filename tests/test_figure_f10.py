"""F10 --quick: attention maps per task (with the teacher's truth) and modality weights per epoch."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_figures import quick


@pytest.mark.slow  # trains 4 small runs: over a minute on a busy 2-core machine
def test_f10_rows_cover_every_word_task_and_epoch(tmp_path: Path) -> None:
    rows = quick("f10_attention_maps", tmp_path)
    attention = [r for r in rows if r["panel"] == "task_attention"]
    assert {r["task"] for r in attention} == {"t0", "t1"}
    for task in ("t0", "t1"):
        mine = [r for r in attention if r["task"] == task]
        assert len(mine) == 63 == len({r["column"] for r in mine})  # every Pauli word of 3 qubits
        assert abs(sum(float(r["mean"]) for r in mine) - 1) < 1e-4  # a softmax: the means sum to 1
        assert abs(sum(float(r["teacher_weight"]) for r in mine) - 1) < 1e-9
        assert all(float(r["ci95_low"]) <= float(r["mean"]) <= float(r["ci95_high"]) for r in mine)
        weights = [float(r["teacher_weight"]) for r in mine]
        assert weights == sorted(weights, reverse=True)  # columns in the truth's order
    # Z0 alone: U_t^dag Z0 U_t is not Z0, so the truth spreads over several words
    assert sum(float(r["teacher_weight"]) > 0.01 for r in attention if r["task"] == "t0") > 1
    summaries = {(r["panel"], r["task"]) for r in rows if r["column"] == "all"}
    assert summaries == {(p, t) for p in ("spearman_attention_vs_teacher", "normalised_attention_entropy")
                         for t in ("t0", "t1")}
    modality = [r for r in rows if r["panel"] == "modality_attention"]
    assert {(r["column"], r["epoch"]) for r in modality} == {("left", "1"), ("right", "1")}
    assert math.isclose(sum(float(r["mean"]) for r in modality), 1, abs_tol=1e-5)
    assert all(r["seeds"] == "2" for r in rows)
