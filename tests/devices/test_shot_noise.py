"""Aer shot noise has the spread of real sampling: each qubit-wise commuting group of an
observable's Pauli terms measured with ``shots`` shots, Var = sum_g Var(S_g) / shots."""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest
from qiskit import QuantumCircuit
from qiskit.primitives import BackendEstimatorV2
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator

from qmtl.devices import DeviceConfig, build_device
from qmtl.devices.sampling import ShotSampledEstimator

SHOTS = 20_000
ROWS = 3000  # repetitions: the sample std is within 1/sqrt(2 * ROWS) = 1.3 % of the truth


def prepare(x):
    """An entangled state on which 5 Z0 and 3 X1 are correlated."""
    qml.RY(x, wires=0)
    qml.CNOT(wires=[0, 1])
    qml.RY(0.4, wires=1)


def sampled_std(observable, groups: list) -> tuple[float, float, float]:
    """(sample std over ROWS shot estimates, predicted std, exact mean) of ``observable``;
    the prediction is sum over ``groups`` of each group's single-shot variance, from
    default.qubit's ``qml.var``."""
    device, diff_method = build_device(DeviceConfig(name="aer", shots=SHOTS), 2, seed=3)

    @qml.qnode(device, diff_method=diff_method)
    def estimate(x):
        prepare(x)
        return qml.expval(observable)

    @qml.qnode(qml.device("default.qubit", wires=2))
    def variances(x):
        prepare(x)
        return [qml.var(group) for group in groups] + [qml.expval(observable)]

    values = np.asarray(estimate(np.full(ROWS, 0.9)))
    *group_variances, mean = variances(0.9)
    return values.std(), float(np.sqrt(sum(group_variances) / SHOTS)), float(mean)


def test_one_group_uses_the_variance_of_the_sum():
    """5 Z0 + 3 X1 is one measurement group: its variance includes 2*5*3*Cov(Z0, X1)."""
    observable = 5 * qml.Z(0) + 3 * qml.X(1)
    std, predicted, mean = sampled_std(observable, [observable])
    assert std == pytest.approx(predicted, rel=0.06)
    independent = np.sqrt((25 * (1 - np.cos(0.9) ** 2) + 9) / SHOTS)  # ignoring the covariance
    assert abs(predicted - independent) > 0.08 * predicted  # the covariance matters here
    assert abs(std - 1 / np.sqrt(SHOTS)) > 0.5 * predicted  # not Aer's N(0, 1/sqrt(shots))


def test_groups_measured_apart_add_their_variances():
    """Z0 + X0 needs two measurement bases: Var = Var(Z0) + Var(X0)."""
    std, predicted, _ = sampled_std(qml.Z(0) + qml.X(0), [qml.Z(0), qml.X(0)])
    assert std == pytest.approx(predicted, rel=0.06)


@pytest.mark.slow  # real sampling of 1500 bound circuits: about a minute on 2 cores
def test_matches_qiskit_backend_estimator_sampling():
    """Against real sampling (BackendEstimatorV2 on AerSimulator counts), same observable."""
    circuit = QuantumCircuit(2)
    circuit.ry(0.9, 0)
    circuit.cx(0, 1)
    circuit.ry(0.4, 1)
    observable = SparsePauliOp.from_list([("IZ", 5), ("XI", 3)])
    precision = 1 / np.sqrt(SHOTS)
    rows = np.zeros((1500, 0))
    sampled = BackendEstimatorV2(backend=AerSimulator(), options={
        "default_precision": precision, "seed_simulator": 5}).run(
        [(circuit, observable, rows)]).result()[0].data.evs
    ours = ShotSampledEstimator(options={
        "default_precision": precision, "run_options": {"seed_simulator": 5}}).run(
        [(circuit, observable, rows)]).result()[0].data
    # Each sample std is within 1.8 % of the truth (1500 repetitions): 8 % is > 3 sigma apart.
    assert ours.evs.std() == pytest.approx(sampled.std(), rel=0.08)
    assert ours.stds[0] == pytest.approx(sampled.std(), rel=0.08)
    assert ours.evs.mean() == pytest.approx(sampled.mean(), abs=4 * sampled.std() / np.sqrt(1500))


def test_pubs_of_one_call_draw_independent_noise():
    """Aer's estimator reuses one seed for every PUB of a call; ours does not."""
    circuit = QuantumCircuit(1)
    observable = SparsePauliOp("X")  # <X> = 0 on |0>: pure shot noise
    estimator = ShotSampledEstimator(options={
        "default_precision": 0.01, "run_options": {"seed_simulator": 1}})
    first, second = (r.data.evs for r in estimator.run(
        [(circuit, observable, np.zeros((50, 0)))] * 2).result())
    assert not np.array_equal(first, second)
    again = estimator.run([(circuit, observable, np.zeros((50, 0)))]).result()[0].data.evs
    np.testing.assert_array_equal(first, again)  # same seed, same first stream


@pytest.mark.parametrize("shots", [None, 100])
def test_identity_terms_are_noiseless_constants(shots):
    """<I> = 1 needs no simulation, even when the circuit acts on no qubit at all."""
    device = qml.device("qmtl.estimator", wires=2)

    @qml.qnode(device)
    def circuit():
        return qml.expval(qml.Identity(0)), qml.expval(3 * qml.Identity(0) @ qml.Identity(1))

    assert qml.set_shots(circuit, shots=shots)() == (1.0, 3.0)
