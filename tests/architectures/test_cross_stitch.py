"""Cross-stitch networks between per-task circuits: identity mixing is separate models, the
mixing learns from every task, one execution per stage, options refused in one line."""

from __future__ import annotations

import copy
import json

import pennylane as qml
import pytest
import torch
from architecture_models import FEATURES

from qmtl.architectures import ARCHITECTURE_OPTIONS, ARCHITECTURES, build_model
from qmtl.architectures.cross_stitch import CrossStitchOptions
from qmtl.cli import main
from qmtl.config import validate_config
from qmtl.errors import UserError


def _task_losses(outputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A random linear functional of each task's outputs: every output entry matters."""
    return {name: (output * torch.randn(output.shape, generator=generator)).sum() for name, output in outputs.items()}


def test_registered_with_its_option_model():
    assert "cross_stitch" in ARCHITECTURES and ARCHITECTURE_OPTIONS["cross_stitch"] is CrossStitchOptions


@pytest.mark.parametrize("stages", [2, 3])
def test_identity_mixing_is_the_separate_per_task_models(make_model, tiny_config, stages):
    """Same outputs as one cross-stitch model per task holding the same encoder, stages and
    readout; a task's loss sends no gradient into another task's parameters."""
    options = {"stages": stages, "self_weight": 1.0}
    model = make_model("cross_stitch", options)
    for matrix, unit in zip(model.mixing_matrices(), model.units):
        assert torch.equal(matrix, torch.eye(3) * unit.live)  # 0 where a task's next angle is dead
    x = torch.randn(6, FEATURES)
    outputs = model(x)
    for t, task in enumerate(tiny_config["tasks"]):
        alone = make_model("cross_stitch", options, seed=t + 1, raw={**copy.deepcopy(tiny_config), "tasks": [task]})
        with torch.no_grad():
            alone.encoders[task["name"]].load_state_dict(model.encoders[task["name"]].state_dict())
            alone.heads[task["name"]].load_state_dict(model.heads[task["name"]].state_dict())
            # The task alone measures only what it needs itself: a subset of the joint model's live angles.
            for own, joint in zip(alone.stages, model.stages):
                own.weights[0].copy_(joint.full_weights()[t][own.live[0]])
        assert torch.allclose(alone(x)[task["name"]], outputs[task["name"]], atol=1e-6)

    losses = _task_losses(outputs, torch.Generator().manual_seed(0))
    for t, name in enumerate(model.task_names):
        model.zero_grad()
        losses[name].backward(retain_graph=True)
        for other, other_name in enumerate(model.task_names):
            own = [*model.encoders[other_name].parameters(), *model.heads[other_name].parameters(),
                   *(stage.weights[other] for stage in model.stages)]
            reached = [p.grad is not None and bool(p.grad.abs().sum() > 0) for p in own]
            assert all(reached) if other == t else not any(reached), (name, other_name)
        # only the off-diagonal mixing entries of its own row can start coupling the tasks
        for unit in model.units:
            gradient = torch.zeros_like(unit.live, dtype=unit.weights.dtype)
            gradient[unit.live] = unit.weights.grad
            assert torch.all(gradient[..., t, :][unit.live[..., t, :]].abs() > 0)
            assert torch.all(gradient[..., [u for u in range(3) if u != t], :] == 0)


@pytest.mark.parametrize("mixing", ["per_feature", "shared"])
def test_every_task_sends_gradient_into_the_mixing(make_model, mixing):
    """With the paper's initialisation, each task's loss alone reaches every cross-stitch
    matrix, and through the first one it also reaches every other task's first stage."""
    model = make_model("cross_stitch", {"stages": 3, "mixing": mixing})
    matrix = model.mixing_matrices()[0]
    assert matrix.shape == ((4, 3, 3) if mixing == "per_feature" else (3, 3))
    assert torch.allclose(matrix.sum(dim=-1), torch.ones(matrix.shape[:-1]))
    assert torch.allclose(torch.diagonal(matrix, dim1=-2, dim2=-1), torch.full(matrix.shape[:-1], 0.9))
    losses = _task_losses(model(torch.randn(6, FEATURES)), torch.Generator().manual_seed(1))
    for name in model.task_names:
        model.zero_grad()
        losses[name].backward(retain_graph=True)
        for unit in model.units:
            assert unit.weights.grad is not None and unit.weights.grad.abs().sum() > 0, name
        assert all(bool(w.grad.abs().sum() > 0) for w in model.stages[0].weights), name


def test_mixing_acts_between_the_stages(make_model):
    """The next stage's angles are the re-encoded mixture of the tasks' measured features."""
    model = make_model("cross_stitch", {"stages": 2})
    with torch.no_grad():
        model.units[0].weights.uniform_(-1, 1)
    x = torch.randn(5, FEATURES)
    first, last = model.stage_features(x)
    matrix = model.mixing_matrices()[0]  # (feature, task u, task t)
    mixed = torch.stack([sum(matrix[:, u, t] * first[t] for t in range(3)) for u in range(3)])
    expected = model.stages[1](torch.pi / 2 * (1 - mixed))  # every wire is read: no wire left out
    assert model.feature_wires == [[0, 1, 2, 3]]
    assert torch.allclose(last, expected, atol=1e-6)


@pytest.mark.parametrize("stages", [2, 3])
def test_one_execution_per_stage(make_model, stages):
    model = make_model("cross_stitch", {"stages": stages})
    with qml.Tracker(model.stages[0].qnode.device) as tracker:
        model(torch.randn(5, FEATURES))
    assert tracker.totals["simulations"] == stages


def test_only_live_angles_and_mixing_entries(make_model, tiny_config):
    """After one hardware-efficient layer, Y3 depends on every wire's input angle but Z1
    only on wires 0 and 1: task b's mixing row holds no entry for wires 2 and 3, and every
    parameter the model counts changes an output (random angles, three stages)."""
    tiny_config["tasks"] = [{"name": "a", "kind": "regression", "observables": ["Y3"]},
                            {"name": "b", "kind": "regression", "observables": ["Z1"]}]
    tiny_config["model"]["ansatz"] = {"name": "hardware_efficient"}
    model = make_model("cross_stitch", {"stages": 3})
    last_unit = model.units[-1]
    assert model.feature_wires[-1] == [0, 1, 2, 3]
    assert last_unit.live[:, 1, :].tolist() == [[True, True], [True, True], [False, False], [False, False]]
    assert last_unit.live[:, 0, :].all() and last_unit.weights.numel() == 12
    assert model.parameter_counts()["total"] == sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "weights" in name:
                parameter.uniform_(0, 2 * torch.pi)
    generator = torch.Generator().manual_seed(2)
    total = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for _ in range(3):
        model.zero_grad()
        sum(_task_losses(model(torch.randn(8, FEATURES, generator=generator)), generator).values()).backward()
        for name, parameter in model.named_parameters():
            total[name] += parameter.grad.abs()
    for name, gradient in total.items():
        assert torch.all(gradient > 1e-8), name


def test_parameter_split(make_model):
    model = make_model("cross_stitch", {"stages": 3})
    shared = {id(p) for p in model.shared_parameters()}
    assert all(id(p) in shared for unit in model.units for p in unit.parameters())
    assert all(id(p) in shared for stage in model.stages[:-1] for p in stage.weights)
    assert all(id(p) in shared for encoder in model.encoders.values() for p in encoder.parameters())
    for t, (name, own) in enumerate(zip(model.task_names, model.task_parameters())):
        assert {id(p) for p in own} == {id(model.stages[-1].weights[t]),
                                        *(id(p) for p in model.heads[name].parameters())}


@pytest.mark.parametrize(("options", "message"), [
    ({"stages": 1}, "model.options.stages for architecture 'cross_stitch' must be >= 2, got 1"),
    ({"stages": 2.0}, "model.options.stages for architecture 'cross_stitch' must be an integer, got 2.0"),
    ({"layers_per_stage": 0}, "model.options.layers_per_stage for architecture 'cross_stitch' must be >= 1"),
    ({"self_weight": 1.5}, "model.options.self_weight for architecture 'cross_stitch' must be in [0, 1]"),
    ({"self_weight": True}, "model.options.self_weight for architecture 'cross_stitch' must be a number"),
    ({"mixing": "full"}, "model.options.mixing for architecture 'cross_stitch' is 'full'; choose one of "
                         "per_feature, shared"),
    ({"stage": 3}, "unknown model.options key 'stage' for architecture 'cross_stitch' (did you mean 'stages'?)"),
])
def test_bad_options_are_one_line(make_model, options, message):
    with pytest.raises(UserError) as error:
        make_model("cross_stitch", options)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_bad_option_from_the_cli_exits_2_and_writes_nothing(tiny_config, write_config, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", str(write_config(tiny_config)), "--out", str(out), "--quiet",
                 "--set", "model.architecture=cross_stitch", "--set", "model.options.stages=1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "model.options.stages" in err
    assert not out.exists()


def test_aer_matches_the_simulator_one_call_per_stage(tiny_config):
    """On Aer (exact), the same values and gradients as default.qubit; each stage is one
    Estimator call carrying every task's rows and parameter shifts."""
    from qmtl.devices import build_device

    raw = copy.deepcopy(tiny_config)
    raw["device"] = {"name": "aer"}
    raw["model"].update(architecture="cross_stitch", options={"stages": 2})
    config = validate_config(raw)
    device, diff_method = build_device(config.device, config.model.n_qubits, seed=0)
    torch.manual_seed(0)
    on_aer = build_model(config, FEATURES, device, diff_method)
    torch.manual_seed(0)
    simulated = build_model(config, FEATURES, qml.device("default.qubit", wires=4), "backprop")
    x = torch.randn(4, FEATURES)
    outputs, reference = on_aer(x), simulated(x)
    for values in (outputs, reference):
        sum(v.pow(2).sum() for v in values.values()).backward()
    assert device.primitive_calls == 2
    for name in outputs:
        assert torch.allclose(outputs[name], reference[name], atol=1e-5)
    for p_aer, p_sim in zip(on_aer.parameters(), simulated.parameters()):
        assert torch.allclose(p_aer.grad, p_sim.grad, atol=1e-5)


def test_trains_from_config_on_aer_with_shots(tiny_config, write_config, tmp_path):
    tiny_config["data"]["limit"] = 80
    tiny_config["training"].update(epochs=1, batch_size=32, conflict_diagnostic=False)
    tiny_config["model"].update(architecture="cross_stitch", options={"stages": 2, "mixing": "shared"})
    out = tmp_path / "run"
    assert main(["train", str(write_config(tiny_config)), "--out", str(out), "--quiet",
                 "--set", "device.name=aer", "--set", "device.shots=2000"]) == 0
    final = json.loads((out / "final.json").read_text())
    assert final["device"] == "aer" and 0.0 <= final["test"]["parity"]["accuracy"] <= 1.0
