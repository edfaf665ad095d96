"""F8's ``--quick`` mode: every variant evaluated, with errors, accuracies and executed shots."""

from __future__ import annotations

from pathlib import Path

from test_figures import quick


def test_f8_rows_per_variant_with_error_and_cost(tmp_path: Path) -> None:
    rows = quick("f8_mitigation", tmp_path)
    variants = {"exact", "none", "readout", "zne", "readout+zne"}
    assert {r["variant"] for r in rows} == variants
    assert {(r["variant"], r["task"]) for r in rows} == {
        (v, t) for v in variants for t in ("digit", "parity", "ge5")}
    shots = {r["variant"]: int(r["shots_executed"]) for r in rows}
    # ZNE runs three noise factors; TREX adds its readout-calibration circuit.
    assert shots["zne"] == 3 * shots["none"] and shots["readout"] > shots["none"]
    assert shots["readout+zne"] > shots["zne"]
    for row in rows:
        assert 0.0 <= float(row["accuracy"]) <= 1.0
        assert (float(row["mean_abs_error"]) > 0) == (row["variant"] != "exact")
