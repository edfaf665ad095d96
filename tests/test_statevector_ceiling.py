"""The benchmark's ceiling (a hand-written torch statevector) computes qmtl's reference model."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from qmtl.lightcone import expand

BENCHMARKS = Path(__file__).resolve().parents[1] / "experiments" / "benchmarks"


def _load(name: str):
    """A benchmark module under a private name (the scripts import their siblings by bare name)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(f"qmtl_test_{name}", BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


@pytest.mark.parametrize("n_qubits", [3, 5])
def test_ceiling_equals_qmtl_reference_model(n_qubits):
    """With qmtl's encoder, circuit angles (dead ones at 0) and heads copied in, the
    hand-written statevector gives qmtl's outputs and the same encoder gradients."""
    bench = _load("bench_core_step")
    torch.manual_seed(1)
    model = bench.qmtl_model(n_qubits)
    ceiling = bench.StatevectorCeiling(bench.FEATURES, bench.HIDDEN, n_qubits, bench.LAYERS, bench.CLASSES)
    ceiling.encoder.load_state_dict(model.encoder.branches["features"].state_dict())
    for head, name in zip(ceiling.heads, model.task_names):
        head.load_state_dict(model.heads[name].linear.state_dict())
    with torch.no_grad():
        ceiling.weights.copy_(expand(model.circuit.weights, model.circuit.live))
    x = torch.randn(7, bench.FEATURES)
    expected, got = list(model(x).values()), ceiling(x)
    for a, b in zip(expected, got):
        assert torch.allclose(a, b, atol=1e-5)
    sum(o.square().sum() for o in expected).backward()
    sum(o.square().sum() for o in got).backward()
    first = model.encoder.branches["features"][0].weight.grad
    assert torch.allclose(first, ceiling.encoder[0].weight.grad, atol=1e-4 * first.abs().max())
