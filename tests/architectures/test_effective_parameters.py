"""Every counted parameter can change an output; the light-cone rule drops exactly the dead angles."""

from __future__ import annotations

import pennylane as qml
import pytest
import torch
from architecture_models import FEATURES

from qmtl.ansatz import get_ansatz
from qmtl.architectures import ARCHITECTURES
from qmtl.circuit import SharedCircuit
from qmtl.lightcone import expand
from qmtl.observables import to_observable

OBSERVABLE_SETS = {
    "z words": [["Z0", "Z1", "Z2", "Z3"], ["Z0 Z1", "Z2 Z3"]],
    "x and y words": [["X0", "Y1"], ["X2", "Y3"]],
    "multi-qubit words": [["X0 Y1", "Z2 Z3"], ["Z0 X3"]],
    "one wire each": [["Z0"], ["Y2"]],
}


def _randomise_angles(model: torch.nn.Module) -> None:
    """Random values for every circuit angle (basis heads start at 0, where some angles
    have a zero gradient by symmetry although they are not dead)."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "weights" in name:
                parameter.uniform_(0, 2 * torch.pi)


@pytest.mark.parametrize("words", OBSERVABLE_SETS.values(), ids=OBSERVABLE_SETS.keys())
@pytest.mark.parametrize("ansatz", ["hardware_efficient", "strongly_entangling"])
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_every_counted_parameter_has_a_gradient(make_model, tiny_config, architecture, ansatz, words):
    tiny_config["tasks"] = [
        {"name": f"t{i}", "kind": "regression", "outputs": 1, "observables": task_words}
        for i, task_words in enumerate(words)
    ]
    tiny_config["model"]["ansatz"] = {"name": ansatz, "layers": 2}
    options = {"match_parameters": False, "width": 4} if architecture == "classical" else None
    model = make_model(architecture, options)
    model.eval()
    _randomise_angles(model)
    generator = torch.Generator().manual_seed(1)
    total = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for _ in range(3):
        model.zero_grad()
        outputs = model(torch.randn(8, FEATURES, generator=generator))
        loss = sum((o * torch.randn(o.shape, generator=generator)).sum() for o in outputs.values())
        loss.backward()
        for name, parameter in model.named_parameters():
            total[name] += parameter.grad.abs()
    counted = model.parameter_counts()["total"]
    assert counted == sum(p.numel() for p in model.parameters())
    for name, gradient in total.items():
        assert torch.all(gradient > 1e-8), (name, gradient)


@pytest.mark.parametrize("words", [["Z0", "Z1 Z2"], ["X0", "Y3"], ["Z0"], ["X1 Z2", "Y0"]])
@pytest.mark.parametrize("ansatz", ["hardware_efficient", "strongly_entangling"])
def test_dropped_angles_are_exactly_those_without_a_gradient(ansatz, words):
    """With every angle of the full layout in the circuit, the angles the rule drops have
    a zero gradient and the ones it keeps do not (random angles and inputs)."""
    n_qubits = 4
    device = qml.device("default.qubit", wires=n_qubits)
    circuit = SharedCircuit(n_qubits, get_ansatz(ansatz), 2, words, device, "backprop")
    every = torch.ones_like(circuit.live)
    torch.manual_seed(3)
    weights = (2 * torch.pi * torch.rand(circuit.live.shape, dtype=torch.float64)).requires_grad_()

    @qml.qnode(device, interface="torch")
    def full_circuit(angles, weights):
        circuit._queue(angles, weights, every)
        return [qml.expval(to_observable(w)) for w in words]

    gradient = torch.zeros_like(weights)
    for _ in range(3):
        angles = torch.rand(6, n_qubits, dtype=torch.float64) * 2 * torch.pi
        values = torch.stack(list(full_circuit(angles, weights)))
        (grad,) = torch.autograd.grad((values * torch.randn_like(values)).sum(), weights)
        gradient += grad.abs()
    assert torch.all(gradient[circuit.live] > 1e-8)
    assert torch.all(gradient[~circuit.live] < 1e-12)
    assert circuit.weights.numel() == int(circuit.live.sum())


def test_live_angles_fill_the_layout_in_order():
    live = torch.tensor([[True, False], [False, True]])
    assert expand(torch.tensor([1.0, 2.0]), live).tolist() == [[1.0, 0.0], [0.0, 2.0]]
    batched = expand(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), live)
    assert batched.shape == (2, 2, 2) and batched[1].tolist() == [[3.0, 0.0], [0.0, 4.0]]


@pytest.mark.parametrize("architecture", ["hard_sharing", "ansatz_heads", "single_task"])
def test_a_checkpoint_with_the_full_layout_is_refused_in_one_line(make_model, architecture):
    """State written before dead angles were dropped (every angle of the layout) does not load."""
    from qmtl.errors import UserError

    model = make_model(architecture)
    state = model.state_dict()
    key = next(k for k in state if k.endswith("weights") or k.endswith("weights.0"))
    state[key] = torch.zeros(state[key].numel() + 4)
    with pytest.raises(UserError, match="predates qmtl keeping only the angles that reach a measured value"):
        model.load_state_dict(state)
    model.load_state_dict(make_model(architecture, seed=1).state_dict())  # same layout loads
