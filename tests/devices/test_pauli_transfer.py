"""Noisy expectation values from the vectorised Pauli-transfer pass (qmtl/devices/transfer.py)
equal Aer's density-matrix values row by row, and the device trains the same with it."""

from __future__ import annotations

import pickle

import numpy as np
import pennylane as qml
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import Pauli
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, amplitude_damping_error, depolarizing_error

from qmtl.devices import DeviceConfig, build_device
from qmtl.devices import sampling as sampling_module
from qmtl.devices.sampling import active_qubits
from qmtl.devices.targets import fake_backend
from qmtl.devices.transfer import transfer_program

# Aer's density matrix and the transfer pass round differently (Kraus -> superoperator ->
# transfer matrix); far below any shot error (1/sqrt(10^6) = 1e-3).
TOLERANCE = 1e-8


def random_circuit(n_qubits: int, layers: int, seed: int) -> QuantumCircuit:
    """Random one-angle rotations (RX/RY/RZ, one parameter each) between CNOT ladders in
    random directions: the shape of qmtl's encoder + ansatz circuits."""
    rng = np.random.default_rng(seed)
    theta = ParameterVector("theta", n_qubits * (layers + 1))
    circuit = QuantumCircuit(n_qubits)
    gates = [circuit.rx, circuit.ry, circuit.rz]
    for index, angle in enumerate(theta):
        gates[rng.integers(3)](angle, index % n_qubits)
        if index % n_qubits == n_qubits - 1:
            for wire in range(n_qubits - 1):
                pair = [wire, wire + 1] if rng.random() < 0.5 else [wire + 1, wire]
                circuit.cx(*pair)
    return circuit


def aer_values(isa: QuantumCircuit, simulator: AerSimulator, rows: np.ndarray,
               labels: list[str]) -> np.ndarray:
    """Aer's density-matrix values of ``labels`` at every row: one experiment per row."""
    qubits = sorted(set(active_qubits(isa)) | {
        q for label in labels for q, p in enumerate(reversed(label)) if p != "I"})
    circuit = isa.copy()
    for label in labels:
        circuit.save_expectation_value(Pauli(label)[qubits], qubits=qubits, label=label)
    binds = [{p: rows[:, j] for j, p in enumerate(circuit.parameters)}]
    result = simulator.run(circuit, parameter_binds=binds).result()
    return np.array([[result.data(row)[label] for label in labels] for row in range(len(rows))])


def transfer_values(isa: QuantumCircuit, noise_model: NoiseModel, rows: np.ndarray,
                    labels: list[str]) -> np.ndarray:
    qubits = sorted(set(active_qubits(isa)) | {
        q for label in labels for q, p in enumerate(reversed(label)) if p != "I"})
    program = transfer_program(isa, qubits, noise_model)
    assert program is not None
    return program.expectation_values(rows, labels)


def full_labels(words: dict[int, str], width: int) -> str:
    """A qiskit Pauli label of ``width`` qubits with ``words[qubit]`` on those qubits."""
    return "".join(words.get(q, "I") for q in reversed(range(width)))


def test_equals_aer_on_a_fake_backend_for_x_y_z_words():
    backend = fake_backend("fake_manila")
    isa = generate_preset_pass_manager(1, backend=backend, seed_transpiler=3).run(
        random_circuit(4, 2, seed=1))
    simulator = AerSimulator.from_backend(backend, method="density_matrix")
    layout = isa.layout.final_index_layout()
    labels = [full_labels({layout[0]: "Z"}, isa.num_qubits),
              full_labels({layout[1]: "X", layout[3]: "Y"}, isa.num_qubits),
              full_labels({q: "Z" for q in layout}, isa.num_qubits)]
    rows = np.random.default_rng(0).uniform(-np.pi, np.pi, (12, isa.num_parameters))
    expected = aer_values(isa, simulator, rows, labels)
    got = transfer_values(isa, simulator.options.noise_model, rows, labels)
    np.testing.assert_allclose(got, expected, atol=TOLERANCE)
    noiseless = aer_values(isa, AerSimulator(method="density_matrix"), rows, labels)
    assert np.abs(got - noiseless).max() > 1e-3  # the noise is really there


def test_equals_aer_with_noise_on_the_rotations_themselves():
    """A user noise model over rx/ry/rz/cx: the parametrised gates carry errors too (the
    transfer pass applies them after the row's rotation), and amplitude damping is not unital."""
    noise_model = NoiseModel(basis_gates=["rx", "ry", "rz", "cx"])
    noise_model.add_all_qubit_quantum_error(depolarizing_error(0.02, 1), ["rx", "ry"])
    noise_model.add_all_qubit_quantum_error(amplitude_damping_error(0.05), ["rz"])
    noise_model.add_all_qubit_quantum_error(depolarizing_error(0.05, 2), ["cx"])
    isa = generate_preset_pass_manager(0, basis_gates=noise_model.basis_gates).run(
        random_circuit(3, 3, seed=2))
    assert {"rx", "ry", "rz"} <= set(isa.count_ops())
    labels = [full_labels({0: "Z"}, 3), full_labels({1: "Y", 2: "X"}, 3)]
    rows = np.random.default_rng(1).uniform(-np.pi, np.pi, (9, isa.num_parameters))
    simulator = AerSimulator(method="density_matrix", noise_model=noise_model)
    np.testing.assert_allclose(transfer_values(isa, noise_model, rows, labels),
                               aer_values(isa, simulator, rows, labels), atol=TOLERANCE)


def test_equals_aer_on_scattered_qubits_of_a_wide_backend():
    """Laid out on a 27-qubit backend: only the active qubits (not adjacent indices) are
    simulated, and an idle measured qubit is in |0>."""
    backend = fake_backend("fake_kolkata")
    isa = generate_preset_pass_manager(1, backend=backend, seed_transpiler=5,
                                       initial_layout=[4, 1, 7]).run(random_circuit(3, 2, seed=3))
    idle = next(q for q in range(isa.num_qubits) if q not in active_qubits(isa))
    labels = [full_labels({1: "Z", 7: "Z"}, 27), full_labels({4: "X", idle: "Z"}, 27)]
    rows = np.random.default_rng(2).uniform(-np.pi, np.pi, (6, isa.num_parameters))
    simulator = AerSimulator.from_backend(backend, method="density_matrix")
    np.testing.assert_allclose(transfer_values(isa, simulator.options.noise_model, rows, labels),
                               aer_values(isa, simulator, rows, labels), atol=TOLERANCE)


def test_declines_a_parametrised_gate_it_does_not_cover():
    theta = ParameterVector("theta", 1)
    circuit = QuantumCircuit(2)
    circuit.rzz(theta[0], 0, 1)
    noise_model = NoiseModel(basis_gates=["rzz"])
    assert transfer_program(circuit, [0, 1], noise_model) is None


def noisy_qnode(device, n_wires: int = 3):
    @qml.qnode(device, diff_method="device")
    def circuit(x, weights):
        for wire in range(n_wires):
            qml.RY(x[..., wire], wires=wire)
        qml.StronglyEntanglingLayers(weights, wires=range(n_wires))
        return qml.expval(qml.Z(0)), qml.expval(qml.X(1) @ qml.Y(2) + 0.5 * qml.Z(1))

    return circuit


def test_device_values_and_gradients_equal_the_per_row_aer_path_under_a_seed(monkeypatch):
    """Before/after: the same seeded shot draws around the same noisy means, so values and
    parameter-shift Jacobians agree to rounding; one compiled program serves every call."""
    compiled = []
    monkeypatch.setattr(sampling_module, "transfer_program",
                        lambda *args: compiled.append(args) or transfer_program(*args))
    rng = np.random.default_rng(4)
    x = qml.numpy.array(rng.uniform(0, np.pi, (4, 3)), requires_grad=False)
    weights = qml.numpy.array(rng.uniform(0, 2 * np.pi, (1, 3, 3)), requires_grad=True)
    results = {}
    for transfer in (True, False):
        device, _ = build_device(DeviceConfig(name="aer", noise="fake_manila", shots=2000), 3, seed=7)
        device.target.estimator.pauli_transfer = transfer
        circuit = noisy_qnode(device)
        with qml.Tracker(device) as tracker:
            values = [np.stack(circuit(x, weights)) for _ in range(2)]  # shot noise differs per call
            jacobian = qml.jacobian(lambda w, qnode=circuit: qml.numpy.stack(qnode(x, w)))(weights)
        results[transfer] = values, jacobian
        assert tracker.totals["primitive_calls"] == 3
    (new_values, new_jacobian), (old_values, old_jacobian) = results[True], results[False]
    np.testing.assert_allclose(new_values, old_values, atol=TOLERANCE)
    np.testing.assert_allclose(new_jacobian, old_jacobian, atol=TOLERANCE)
    assert np.abs(new_values[0] - new_values[1]).max() > 1e-4  # fresh shot noise per call
    assert len(compiled) == 1  # compiled once for the forward circuit (shift rows share it)


@pytest.mark.parametrize("noise", ["fake_manila", "model"])
def test_noisy_targets_use_the_transfer_pass(noise, tmp_path):
    if noise == "model":
        model = NoiseModel(basis_gates=["rz", "sx", "cx"])
        model.add_all_qubit_quantum_error(depolarizing_error(0.01, 2), ["cx"])
        path = tmp_path / "noise.pkl"
        path.write_bytes(pickle.dumps(model))
        noise = str(path)
    device, _ = build_device(DeviceConfig(name="aer", noise=noise, shots=100), 2, seed=0)
    assert device.target.estimator.pauli_transfer
    exact, _ = build_device(DeviceConfig(name="aer", shots=100), 2, seed=0)
    assert not exact.target.estimator.pauli_transfer  # noiseless Aer: statevector, as before


def test_a_seed_fixes_the_noisy_shot_draws():
    x = qml.numpy.array([[0.3, 1.1, -0.4]], requires_grad=False)
    weights = qml.numpy.array(np.full((1, 3, 3), 0.7), requires_grad=False)

    def values(seed: int) -> np.ndarray:
        device, _ = build_device(DeviceConfig(name="aer", noise="fake_manila", shots=500), 3, seed=seed)
        assert device.target.estimator.pauli_transfer
        return np.stack(noisy_qnode(device)(x, weights))

    first = values(11)
    np.testing.assert_array_equal(values(11), first)
    assert np.abs(values(12) - first).max() > 1e-4
