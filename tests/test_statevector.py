"""The compiled torch statevector program against ``default.qubit``: values and gradients on
random circuits of the supported gate set, refusal of everything else."""

from __future__ import annotations

import copy
import random

import pennylane as qml
import pytest
import torch
from tiny_configs import TINY

import qmtl.statevector as statevector
from qmtl.ansatz import get_ansatz
from qmtl.architectures import ARCHITECTURES
from qmtl.circuit import SharedCircuit
from qmtl.config import validate_config
from qmtl.observables import to_observable
from qmtl.statevector import compile_program

ROTATIONS = {"RX": qml.RX, "RY": qml.RY, "RZ": qml.RZ, "PhaseShift": qml.PhaseShift}
FIXED_ONE = [qml.Hadamard, qml.S, qml.T, qml.SX, qml.PauliX, qml.PauliY, qml.PauliZ]
FIXED_TWO = [qml.CNOT, qml.CZ, qml.CY, qml.SWAP]
FIXED_THREE = [qml.Toffoli, qml.CSWAP]


def random_circuit(seed: int, n_qubits: int, n_inputs: int, n_weights: int, n_gates: int = 24):
    """A queue function over ``(inputs, weights)`` of random supported gates, and random words."""
    rng = random.Random(seed)

    plan = []
    for _ in range(n_gates):
        kind = rng.choice(["rotation", "rot", "one", "two", "three"][: 3 + min(2, n_qubits - 1)])
        wires = rng.sample(range(n_qubits), {"two": 2, "three": 3}.get(kind, 1))
        sources = [(rng.randrange(n_inputs), 0) if rng.random() < 0.4 else (0, 1 + rng.randrange(n_weights))
                   for _ in range(3)]
        gate = {"rotation": rng.choice(list(ROTATIONS)), "one": rng.choice(FIXED_ONE),
                "two": rng.choice(FIXED_TWO), "three": rng.choice(FIXED_THREE), "rot": "Rot"}[kind]
        plan.append((kind, gate, wires, sources))

    def queue(inputs, weights):
        def angle(source):
            column, weight = source
            return weights[weight - 1] if weight else inputs[..., column]

        for kind, gate, wires, sources in plan:
            if kind == "rotation":
                ROTATIONS[gate](angle(sources[0]), wires=wires)
            elif kind == "rot":
                qml.Rot(*(angle(s) for s in sources), wires=wires)
            else:
                gate(wires=wires)

    letters = "XYZ"
    words = []
    for _ in range(5):
        support = rng.sample(range(n_qubits), rng.randint(1, n_qubits))
        words.append(" ".join(f"{rng.choice(letters)}{w}" for w in sorted(support)))
    words.append(f"Z{rng.randrange(n_qubits)}")
    return queue, list(dict.fromkeys(words))


def reference(queue, n_qubits, words):
    """The same circuit as a ``default.qubit`` QNode with backprop."""

    @qml.qnode(qml.device("default.qubit", wires=n_qubits), interface="torch", diff_method="backprop")
    def circuit(inputs, weights):
        queue(inputs, weights)
        return [qml.expval(to_observable(word)) for word in words]

    return lambda inputs, weights: torch.stack(list(circuit(inputs, weights)), dim=-1)


def values_and_gradients(function, inputs, weights, mix):
    inputs, weights = inputs.clone().requires_grad_(), weights.clone().requires_grad_()
    values = function(inputs, weights)
    return (values, *torch.autograd.grad((values * mix).sum(), [inputs, weights]))


@pytest.mark.parametrize("dense_qubits", [0, 6])
@pytest.mark.parametrize("seed", range(12))
def test_random_circuits_equal_default_qubit_in_float64(monkeypatch, seed, dense_qubits):
    """Every step kind: gate-by-block application (dense_qubits=0) and weight-only runs
    multiplied into one unitary (dense_qubits=6, all these circuits)."""
    monkeypatch.setattr(statevector, "DENSE_QUBITS", dense_qubits)
    n_qubits, n_inputs, n_weights = 1 + seed % 5, 3, 6
    queue, words = random_circuit(seed, n_qubits, n_inputs, n_weights)
    program = compile_program(queue, n_qubits, n_inputs, n_weights, words)
    assert program is not None
    generator = torch.Generator().manual_seed(seed)
    inputs = 2 * torch.pi * torch.rand(4, n_inputs, generator=generator, dtype=torch.float64)
    weights = 2 * torch.pi * torch.rand(n_weights, generator=generator, dtype=torch.float64)
    mix = torch.randn(4, len(words), generator=generator, dtype=torch.float64)
    ours = values_and_gradients(program, inputs, weights, mix)
    theirs = values_and_gradients(reference(queue, n_qubits, words), inputs, weights, mix)
    for a, b in zip(ours, theirs):
        assert a.dtype == torch.float64
        assert torch.allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_random_circuits_equal_default_qubit_in_float32(seed):
    """Single precision (complex64 states) stays within 1e-6 of ``default.qubit``."""
    n_qubits, n_inputs, n_weights = 3 + seed % 3, 3, 6
    queue, words = random_circuit(100 + seed, n_qubits, n_inputs, n_weights)
    program = compile_program(queue, n_qubits, n_inputs, n_weights, words)
    generator = torch.Generator().manual_seed(seed)
    inputs = 2 * torch.pi * torch.rand(5, n_inputs, generator=generator)
    weights = 2 * torch.pi * torch.rand(n_weights, generator=generator)
    mix = torch.randn(5, len(words), generator=generator)
    ours = values_and_gradients(program, inputs, weights, mix)
    theirs = values_and_gradients(reference(queue, n_qubits, words), inputs, weights, mix)
    assert ours[0].dtype == torch.float32
    assert torch.allclose(ours[0], theirs[0].float(), rtol=0, atol=1e-6)
    for a, b in zip(ours[1:], theirs[1:]):
        assert torch.allclose(a, b.float(), rtol=0, atol=1e-5)


def test_wide_circuits_fold_each_word_instead_of_a_table(monkeypatch):
    """Past MAX_DIAGONAL_QUBITS the words are read without a 2**n table, to the same values."""
    monkeypatch.setattr(statevector, "MAX_DIAGONAL_QUBITS", 2)
    queue, words = random_circuit(7, 4, 3, 6)
    program = compile_program(queue, 4, 3, 6, words)
    assert not program.tabulated
    inputs, weights = torch.rand(3, 3, dtype=torch.float64), torch.rand(6, dtype=torch.float64)
    mix = torch.randn(3, len(words), dtype=torch.float64)
    ours = values_and_gradients(program, inputs, weights, mix)
    theirs = values_and_gradients(reference(queue, 4, words), inputs, weights, mix)
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("size", [1, 3, 5])
def test_any_group_size_gives_the_same_circuit(monkeypatch, size):
    """Joining adjacent wires' one-qubit matrices into one Kronecker product changes nothing."""
    monkeypatch.setattr(statevector, "group_size", lambda n_qubits: size)
    monkeypatch.setattr(statevector, "DENSE_QUBITS", 0)
    queue, words = random_circuit(11, 5, 3, 6, n_gates=40)
    program = compile_program(queue, 5, 3, 6, words)
    widths = {kind: max(width for _, width in blocks) for kind, blocks, _ in program.steps if blocks}
    assert set(widths) == {"shared", "batched"} and (size == 1 or max(widths.values()) > 1)
    inputs, weights = torch.rand(3, 3, dtype=torch.float64), torch.rand(6, dtype=torch.float64)
    mix = torch.randn(3, len(words), dtype=torch.float64)
    ours = values_and_gradients(program, inputs, weights, mix)
    theirs = values_and_gradients(reference(queue, 5, words), inputs, weights, mix)
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, rtol=0, atol=1e-12)


def test_one_example_without_a_batch_dimension():
    queue, words = random_circuit(3, 3, 3, 6)
    program = compile_program(queue, 3, 3, 6, words)
    inputs, weights = torch.rand(2, 3, dtype=torch.float64), torch.rand(6, dtype=torch.float64)
    assert torch.allclose(program(inputs[1], weights), program(inputs, weights)[1], atol=1e-14)


@pytest.mark.parametrize("gate", [
    lambda x, w: qml.CRX(w[0], wires=[0, 1]),  # parametrised two-qubit gate
    lambda x, w: qml.IsingXX(x[..., 0], wires=[0, 1]),
    lambda x, w: qml.RX(0.3, wires=0),  # an angle that is neither an input nor a weight
    lambda x, w: qml.RX(2 * w[0], wires=0),
    lambda x, w: qml.ECR(wires=[0, 1]),  # fixed, but no basis permutation
    lambda x, w: qml.QubitUnitary(torch.eye(2), wires=0),
])
def test_unsupported_operations_leave_the_circuit_to_its_qnode(gate):
    def queue(inputs, weights):
        qml.RY(inputs[..., 0], wires=0)
        gate(inputs, weights)

    assert compile_program(queue, 2, 1, 1, ["Z0"]) is None


def test_shared_circuit_runs_its_qnode_off_default_qubit_backprop():
    """The program replaces only default.qubit with backprop; parameter shift keeps the QNode,
    with the same values."""
    device = qml.device("default.qubit", wires=3)
    torch.manual_seed(0)
    fast = SharedCircuit(3, get_ansatz("strongly_entangling"), 2, ["Z0", "X1 Y2"], device, "backprop")
    torch.manual_seed(0)
    shifted = SharedCircuit(3, get_ansatz("strongly_entangling"), 2, ["Z0", "X1 Y2"], device, "parameter-shift")
    assert fast.program is not None and shifted.program is None
    angles = torch.rand(4, 3, dtype=torch.float64)
    assert torch.allclose(fast.double()(angles), shifted.double()(angles), atol=1e-12)


def test_tracker_counts_each_program_execution():
    device = qml.device("default.qubit", wires=2)
    circuit = SharedCircuit(2, get_ansatz("hardware_efficient"), 1, ["Z0", "Z1"], device, "backprop")
    with qml.Tracker(device) as tracker:
        circuit(torch.rand(5, 2))
        circuit(torch.rand(5, 2))
    assert tracker.totals["simulations"] == 2 and tracker.totals["executions"] == 2


@pytest.mark.parametrize(("architecture", "options"), [
    ("ansatz_heads", {"head_layers": 2}),
    ("basis_heads", {}),
])
def test_task_block_programs_equal_their_qnodes(architecture, options):
    """Task-block architectures (shared prefix state, then every task's block in one stacked
    execution) compile both parts and give the QNodes' values and gradients."""
    raw = copy.deepcopy(TINY)
    raw["tasks"][2]["observables"] = ["X0 Y1", "Z2 Z3"]
    raw["model"].update(architecture=architecture, options=options, encoding={"reupload": True},
                        ansatz={"layers": 2})
    config = validate_config(raw)
    device = qml.device("default.qubit", wires=4)
    torch.manual_seed(0)
    circuit = ARCHITECTURES[architecture](config, 64, device, "backprop").circuit.double()
    assert circuit.prefix_program is not None and circuit.blocks_program is not None
    angles = torch.rand(5, 4, dtype=torch.float64, requires_grad=True)
    parameters = [angles, *circuit.parameters()]
    results = []
    for compiled in (True, False):
        if not compiled:
            circuit.prefix_program = circuit.blocks_program = None
        values = torch.cat(circuit(angles), dim=1)
        mix = torch.linspace(-1, 1, values.numel(), dtype=torch.float64).reshape(values.shape)
        results.append((values, torch.autograd.grad((values * mix).sum(), parameters)))
    (fast, fast_grads), (qnode, qnode_grads) = results
    assert torch.allclose(fast, qnode, rtol=0, atol=1e-12)
    for a, b in zip(fast_grads, qnode_grads):
        assert torch.allclose(a, b, rtol=0, atol=1e-12)
