"""CGC and PLE over quantum experts (Tang et al., RecSys 2020): what defines them."""

from __future__ import annotations

import pennylane as qml
import pytest
import torch
from architecture_models import FEATURES


def _gradients(model, output: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every parameter's gradient of ``output`` weighted at random (zeros where it has none)."""
    model.zero_grad(set_to_none=True)
    (output * torch.randn_like(output)).sum().backward(retain_graph=True)
    return {name: torch.zeros_like(p) if p.grad is None else p.grad.clone() for name, p in model.named_parameters()}


def _names(model, parameters) -> set[str]:
    ids = {id(p) for p in parameters}
    return {name for name, p in model.named_parameters() if id(p) in ids}


def test_a_task_ignores_the_other_tasks_specific_experts(make_model):
    model = make_model("cgc", {"shared_experts": 2, "task_experts": 2})
    level = model.levels[0]
    outputs = model(torch.randn(6, FEATURES))
    for index, name in enumerate(model.task_names):
        gradients = _gradients(model, outputs[name])
        for other in range(len(model.task_names)):
            for expert in level.own_experts(other):
                gradient = gradients[f"levels.0.experts.weights.{expert}"]
                if other == index:
                    assert gradient.abs().sum() > 0, (name, expert)
                else:  # exactly zero: the expert is not in task `name`'s mixture at all
                    assert torch.count_nonzero(gradient) == 0, (name, expert)
        for expert in range(level.n_shared):
            assert gradients[f"levels.0.experts.weights.{expert}"].abs().sum() > 0


def test_gate_mixes_the_shared_experts_and_the_tasks_own(make_model):
    model = make_model("cgc", {"shared_experts": 2, "task_experts": 1, "expert_layers": 2})
    level = model.levels[0]
    x = torch.randn(5, FEATURES)
    angles = model.encoder(x)
    values = level.experts(angles.expand(len(level.experts.weights), *angles.shape))
    assert values.shape[0] == 2 + 3 * 1 and not torch.allclose(values[0], values[1])
    outputs = model(x)
    for index, (name, gate) in enumerate(model.gate_weights(x).items()):
        assert gate.shape == (5, 3) and torch.all(gate > 0)
        assert torch.allclose(gate.sum(dim=1), torch.ones(5))
        picked = [0, 1, 2 + index]  # shared 0, shared 1, then this task's one expert
        mixed = sum(gate[:, i, None] * values[e][:, model.columns[name]] for i, e in enumerate(picked))
        assert torch.allclose(outputs[name], model.heads[name](mixed), atol=1e-6)


def test_without_task_experts_cgc_is_qmoe(make_model):
    """``task_experts: 0`` leaves MMoE over the shared experts: same weights, same outputs."""
    cgc = make_model("cgc", {"shared_experts": 3, "task_experts": 0, "expert_layers": 2})
    qmoe = make_model("qmoe", {"experts": 3, "expert_layers": 2}, seed=1)
    level = cgc.levels[0]
    with torch.no_grad():
        cgc.encoder.load_state_dict(qmoe.encoder.state_dict())
        for mine, theirs in zip(level.experts.weights, qmoe.experts.weights):
            mine.copy_(theirs)
        for name in cgc.task_names:
            level.task_gates[name].linear.load_state_dict(qmoe.gates[name].state_dict())
            cgc.heads[name].load_state_dict(qmoe.heads[name].state_dict())
    x = torch.randn(7, FEATURES)
    ours, reference = cgc(x), qmoe(x)
    for name in reference:
        assert torch.allclose(ours[name], reference[name], atol=1e-6)
    assert cgc.parameter_counts() == qmoe.parameter_counts()


def test_all_experts_of_a_level_run_in_one_execution(make_model):
    for architecture, options, executions in (("cgc", {}, 1), ("ple", {"levels": 3}, 3)):
        model = make_model(architecture, options)
        with qml.Tracker(model.levels[0].experts.qnode.device) as tracker:
            model(torch.randn(5, FEATURES))
        assert tracker.totals["simulations"] == executions, architecture


def test_ple_with_one_level_is_cgc(make_model):
    options = {"shared_experts": 2, "task_experts": 2, "expert_layers": 2}
    cgc = make_model("cgc", options)
    ple = make_model("ple", {**options, "levels": 1}, seed=1)
    ple.load_state_dict(cgc.state_dict())  # the same parameters, by name and shape
    x = torch.randn(6, FEATURES)
    ours, reference = ple(x), cgc(x)
    for name in reference:
        assert torch.allclose(ours[name], reference[name], atol=1e-7)
    assert [_names(ple, group) for group in ple.task_parameters()] == [
        _names(cgc, group) for group in cgc.task_parameters()]


def test_ple_gates_are_distributions(make_model):
    model = make_model("ple", {"levels": 3, "shared_experts": 2, "task_experts": 2})
    x = torch.randn(9, FEATURES)
    outputs = model.level_outputs(x)
    assert len(outputs) == 3
    for number, output in enumerate(outputs, start=1):
        gates = list(output.task_gates.values())
        assert all(gate.shape == (9, 2 + 2) for gate in gates)
        if number < 3:
            assert output.shared_gate is not None and output.shared_gate.shape == (9, 2 + 3 * 2)
            gates.append(output.shared_gate)
        else:
            assert output.shared_gate is None and output.shared is None  # the top level has none
        for gate in gates:
            assert torch.all(gate >= 0) and torch.allclose(gate.sum(dim=1), torch.ones(9))
            assert not torch.allclose(gate[0], gate[1])  # each example gets its own gate


def test_each_level_encodes_the_mixtures_below_scaled_to_the_encoder_range(make_model, tiny_config):
    tiny_config["model"]["encoding"] = {"scale": 2.0}
    model = make_model("ple", {"levels": 2, "shared_experts": 1, "task_experts": 1}, raw=tiny_config)
    seen: list[torch.Tensor] = []
    model.levels[1].experts.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    first = model.level_outputs(torch.randn(4, FEATURES))[0]
    (angles,) = seen
    # the stack: the shared expert on the shared mixture, then one expert per task on its own
    expected = torch.stack([first.shared] + [first.tasks[name] for name in model.task_names])
    assert torch.allclose(angles, 2.0 * expected)
    assert angles.abs().max() <= 2.0
    # the lower level measures Z on every expert wire: one angle per wire of the next level
    assert model.levels[0].experts.observables == ["Z0", "Z1", "Z2", "Z3"]


@pytest.mark.parametrize(("architecture", "options"), [
    ("cgc", {"shared_experts": 2, "task_experts": 1}),
    ("ple", {"levels": 2, "shared_experts": 1, "task_experts": 1}),
    ("ple", {"levels": 3, "shared_experts": 1, "task_experts": 1}),
])
def test_task_parameters_are_exactly_those_no_other_task_reaches(make_model, architecture, options):
    """What task_parameters() gives task t gets a zero gradient from every other task's
    output, and every shared parameter a non-zero one from every task's output."""
    model = make_model(architecture, options)
    x = torch.randn(8, FEATURES)
    outputs = model(x)
    groups = [_names(model, group) for group in model.task_parameters()]
    shared = _names(model, model.shared_parameters())
    assert shared and all(groups) and not shared & set().union(*groups)
    for index, name in enumerate(model.task_names):
        gradients = _gradients(model, outputs[name])
        for other, group in enumerate(groups):
            for parameter in group:
                if other == index:
                    assert gradients[parameter].abs().sum() > 0, (name, parameter)
                else:
                    assert torch.count_nonzero(gradients[parameter]) == 0, (name, parameter)
        for parameter in shared:
            assert gradients[parameter].abs().sum() > 0, (name, parameter)


def test_gates_are_recorded_as_attention_maps(make_model):
    model = make_model("ple", {"levels": 2, "shared_experts": 1, "task_experts": 1})
    x = torch.randn(5, FEATURES)
    maps = model.attention_maps(x)
    assert set(maps) == {"expert_gates_level1", "expert_gates", "shared_expert_gates"}
    assert set(maps["expert_gates_level1"]) == set(model.task_names)
    assert list(maps["shared_expert_gates"]) == ["level1"]  # the top level has no shared gate
    assert list(maps["shared_expert_gates"]["level1"]) == ["shared0", "digit.own0", "parity.own0", "ge5.own0"]
    for name, gate in model.gate_weights(x).items():
        row = maps["expert_gates"][name]
        assert list(row) == ["shared0", "own0"]
        assert torch.allclose(torch.tensor(list(row.values())), gate.mean(dim=0))
