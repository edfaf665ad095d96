"""DSelect-k gates over quantum experts (Hazimeh et al., NeurIPS 2021): what defines them."""

from __future__ import annotations

import itertools

import pennylane as qml
import pytest
import torch
from architecture_models import FEATURES

from qmtl.architectures.dselect_k import ENTROPY_EPSILON, DSelectKGate, smooth_step


def _saturate(gate: DSelectKGate, signs: torch.Tensor) -> None:
    """Set every selector bit to +-gamma (outside the smooth band) whatever the input."""
    logits = gate.selector_logits
    assert isinstance(logits, torch.nn.Linear)
    with torch.no_grad():
        logits.weight.zero_()
        logits.bias.copy_(signs * gate.gamma)


def test_smooth_step_is_0_and_1_outside_its_band_and_smooth_inside():
    gamma = 0.8
    z = torch.linspace(-1.5, 1.5, 301, dtype=torch.float64, requires_grad=True)
    s = smooth_step(z, gamma)
    assert torch.all(s[z <= -gamma / 2] == 0) and torch.all(s[z >= gamma / 2] == 1)
    assert smooth_step(torch.tensor(0.0), gamma) == 0.5
    assert torch.all(s.diff() >= 0)  # non-decreasing
    (slope,) = torch.autograd.grad(s.sum(), z)
    edges = torch.tensor([-gamma / 2 + 1e-6, gamma / 2 - 1e-6], dtype=torch.float64, requires_grad=True)
    (edge_slope,) = torch.autograd.grad(smooth_step(edges, gamma).sum(), edges)
    assert torch.all(edge_slope.abs() < 1e-4)  # the slope falls to 0 at the band's edges: C^1
    assert slope.max() == pytest.approx(3 / (2 * gamma), rel=1e-3)  # at z = 0


def test_power_of_two_selector_is_the_product_of_independent_bits():
    gate = DSelectKGate(3, 4, k=1, gamma=1.0, per_example=True)
    inputs = torch.randn(5, 3)
    selector = gate.selectors(inputs)[:, 0]
    assert gate.selector_logits is not None
    s = smooth_step(gate.selector_logits(inputs), 1.0)  # (batch, 2 bits), most significant first
    expected = torch.stack([(1 - s[:, 0]) * (1 - s[:, 1]), (1 - s[:, 0]) * s[:, 1],
                            s[:, 0] * (1 - s[:, 1]), s[:, 0] * s[:, 1]], dim=1)
    assert torch.allclose(selector, expected)


@pytest.mark.parametrize("n_experts", range(1, 10))
def test_selectors_sum_to_one_for_every_number_of_experts(n_experts):
    gate = DSelectKGate(4, n_experts, k=3, gamma=1.0, per_example=True)
    if gate.selector_logits is not None:
        with torch.no_grad():  # logits inside and outside the band
            for parameter in gate.selector_logits.parameters():
                parameter.uniform_(-2, 2)
    selectors = gate.selectors(torch.randn(50, 4))
    assert selectors.shape == (50, 3, n_experts) and torch.all(selectors >= 0)
    assert torch.allclose(selectors.sum(dim=-1), torch.ones(50, 3))


@pytest.mark.parametrize("n_experts", [3, 5, 8])
def test_every_saturated_selector_picks_exactly_one_expert_and_each_expert_can_be_picked(n_experts):
    gate = DSelectKGate(2, n_experts, k=1, gamma=0.5, per_example=True)
    bits = gate.codes.shape[1]
    picked = set()
    for signs in itertools.product([-1.0, 1.0], repeat=bits):
        _saturate(gate, torch.tensor(signs))
        selector = gate.selectors(torch.randn(3, 2))[:, 0]
        assert torch.all((selector == 0) | (selector == 1)) and torch.all(selector.sum(dim=1) == 1)
        assert torch.equal(selector[0], selector[1])
        picked.add(int(selector[0].argmax()))
    assert picked == set(range(n_experts))


@pytest.mark.parametrize(("n_experts", "k"), [(4, 2), (5, 2), (7, 3), (6, 6)])
def test_gate_rows_sum_to_one_and_saturated_gates_have_at_most_k_non_zeros(n_experts, k):
    gate = DSelectKGate(4, n_experts, k=k, gamma=1.0, per_example=True)
    x = torch.randn(20, 4)
    weights = gate(x)
    assert weights.shape == (20, n_experts) and torch.all(weights >= 0)
    assert torch.allclose(weights.sum(dim=1), torch.ones(20))
    assert torch.all(weights > 0)  # at the start every selector is inside its band: every expert weighs
    generator = torch.Generator().manual_seed(n_experts)
    for _ in range(5):
        _saturate(gate, torch.randint(0, 2, (k * gate.codes.shape[1],), generator=generator) * 2.0 - 1)
        saturated = gate(x)
        assert torch.allclose(saturated.sum(dim=1), torch.ones(20))
        assert torch.all((saturated > 0).sum(dim=1) <= k)


def test_per_example_gates_follow_the_input_and_static_ones_do_not(make_model):
    x = torch.randn(6, FEATURES)
    per_example = make_model("dselect_k", {"experts": 4, "k": 2})
    static = make_model("dselect_k", {"experts": 4, "k": 2, "gate": "static"})
    for name, gate in per_example.gate_weights(x).items():
        assert not torch.allclose(gate[0], gate[1]), name
    for name, gate in static.gate_weights(x).items():
        assert torch.allclose(gate, gate[:1].expand_as(gate)), name
    assert not any(isinstance(m, torch.nn.Linear) for m in static.gates.modules())


def test_output_is_the_readout_of_the_gate_weighted_expert_sum(make_model):
    model = make_model("dselect_k", {"experts": 3, "k": 2, "expert_layers": 2})
    x = torch.randn(5, FEATURES)
    outputs = model(x)
    angles = model.encoder(x)
    experts = model.experts(angles.expand(3, *angles.shape))
    for name, gate in model.gate_weights(x).items():
        mixed = sum(gate[:, e, None] * experts[e][:, model.columns[name]] for e in range(3))
        assert torch.allclose(outputs[name], model.heads[name](mixed), atol=1e-6)


def test_all_experts_run_in_one_execution(make_model):
    model = make_model("dselect_k", {"experts": 5, "k": 2})
    with qml.Tracker(model.experts.qnode.device) as tracker:
        model(torch.randn(5, FEATURES))
    assert tracker.totals["simulations"] == 1


def test_a_task_sends_no_gradient_to_another_tasks_gate(make_model):
    model = make_model("dselect_k", {"experts": 4, "k": 2})
    outputs = model(torch.randn(8, FEATURES))
    groups = model.task_parameters()
    for index, name in enumerate(model.task_names):
        model.zero_grad(set_to_none=True)
        outputs[name].pow(2).sum().backward(retain_graph=True)
        for other, group in enumerate(groups):
            touched = [p.grad is not None and p.grad.abs().sum() > 0 for p in group]
            assert all(touched) if other == index else not any(touched), (name, other)
        assert all(p.grad.abs().sum() > 0 for p in model.shared_parameters())


@pytest.mark.parametrize("gate", ["per_example", "static"])
def test_entropy_penalty_is_the_selectors_entropy_on_the_last_training_batch(make_model, gate):
    model = make_model("dselect_k", {"experts": 4, "k": 2, "gate": gate, "entropy": 0.3})
    assert model.regularization().item() == 0  # no training batch yet
    x = torch.randn(10, FEATURES)
    model.train()
    model(x)
    angles = model.encoder(x).detach()
    expected = 0.0
    for name in model.task_names:
        r = model.gates[name].selectors(angles)
        expected = expected + (-(r * torch.log(r + ENTROPY_EPSILON)).sum(dim=(1, 2))).mean()
    penalty = model.regularization()
    assert torch.allclose(penalty, 0.3 * expected)
    model.eval()
    model(torch.randn(3, FEATURES))  # evaluation does not replace the training batch
    assert torch.allclose(model.regularization(), penalty)
    # its gradient reaches the selectors only, and a step down it lowers it
    model.zero_grad(set_to_none=True)
    penalty.backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    selectors = [p for name in model.task_names for p in model.gates[name].selector_logits.parameters()]
    with torch.no_grad():
        for p in selectors:
            p -= 0.01 * p.grad
    assert model.regularization() < penalty


def test_no_entropy_no_penalty(make_model):
    model = make_model("dselect_k")
    model.train()
    model(torch.randn(4, FEATURES))
    assert model.regularization().item() == 0 and not model.regularization().requires_grad


def test_gates_are_recorded_as_attention_maps(make_model):
    model = make_model("dselect_k", {"experts": 3, "k": 1})
    x = torch.randn(5, FEATURES)
    maps = model.attention_maps(x)["expert_gates"]
    for name, gate in model.gate_weights(x).items():
        assert list(maps[name]) == ["expert0", "expert1", "expert2"]
        assert torch.allclose(torch.tensor(list(maps[name].values())), gate.mean(dim=0))


@pytest.mark.parametrize("n_experts", [4, 6])
def test_minimising_the_entropy_penalty_leaves_at_most_k_experts_per_gate(make_model, n_experts):
    """The smooth step reaches 0 and 1 exactly, so selectors driven out of the band by the
    penalty are one-hot and each task's gate keeps at most k non-zero weights."""
    model = make_model("dselect_k", {"experts": n_experts, "k": 2, "gate": "static", "entropy": 1.0})
    model.train()
    model(torch.randn(4, FEATURES))
    x = torch.randn(3, FEATURES)
    assert all(torch.all(gate > 0) for gate in model.gate_weights(x).values())  # dense at the start
    selectors = [p for name in model.task_names for p in model.gates[name].selector_logits.parameters()]
    optimizer = torch.optim.Adam(selectors, lr=0.05)
    for _ in range(200):
        optimizer.zero_grad()
        model.regularization().backward()
        optimizer.step()
    assert model.regularization().item() < 1e-4
    for gate in model.gate_weights(x).values():
        assert torch.all((gate > 0).sum(dim=1) <= 2)
        assert torch.allclose(gate.sum(dim=1), torch.ones(3))
