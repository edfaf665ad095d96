"""task_attention: per-task, per-example attention over the shared circuit's measured features."""

from __future__ import annotations

import json

import pennylane as qml
import pytest
import torch
import yaml
from architecture_models import FEATURES

from qmtl.cli import main
from qmtl.config import validate_config
from qmtl.rundir import RunDir
from qmtl.training import Trainer

TASKS = ("digit", "parity", "ge5")
OWN_WORDS = {"digit": ["Z0", "Z1", "Z2", "Z3"], "parity": ["Z0", "Z1", "Z2", "Z3"], "ge5": ["Z0 Z1", "Z2 Z3"]}


def _randomise_attention(model: torch.nn.Module, seed: int = 1) -> None:
    """Non-zero attention scores (they start at zero: uniform attention)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.startswith("attention."):
                parameter.copy_(torch.randn(parameter.shape, generator=generator))


def test_softmax_attention_is_a_per_example_distribution_over_every_measured_word(make_model):
    model = make_model("task_attention")
    assert model.circuit.observables == ["Z0", "Z1", "Z2", "Z3", "Z0 Z1", "Z2 Z3"]
    x = torch.randn(6, FEATURES)
    uniform = model.attention_weights(x)
    assert all(torch.equal(w, torch.full((6, 6), 1 / 6)) for w in uniform.values())  # zero init
    _randomise_attention(model)
    weights = model.attention_weights(x)
    assert set(weights) == set(TASKS)
    for w in weights.values():
        assert w.shape == (6, 6) and torch.all(w > 0)
        assert torch.allclose(w.sum(dim=1), torch.ones(6))
        assert not torch.allclose(w[0], w[1])  # depends on the example
    assert not torch.allclose(weights["digit"], weights["parity"])  # one attention per task


def test_mask_attention_is_a_gate_in_the_open_unit_interval(make_model):
    model = make_model("task_attention", {"attention": "mask"})
    _randomise_attention(model)
    for w in model.attention_weights(torch.randn(6, FEATURES)).values():
        assert torch.all((w > 0) & (w < 1))
        assert not torch.allclose(w.sum(dim=1), torch.ones(6))  # independent gates, not a distribution


@pytest.mark.parametrize("attention", ["softmax", "mask"])
def test_each_head_reads_its_attended_features(make_model, attention):
    model = make_model("task_attention", {"attention": attention})
    _randomise_attention(model)
    x = torch.randn(5, FEATURES)
    values = model.circuit(model.encoder(x))
    outputs = model(x)
    for name, weights in model.attention_weights(x).items():
        scale = values.shape[1] if attention == "softmax" else 1
        assert torch.allclose(outputs[name], model.heads[name](scale * weights * values), atol=1e-6)


def test_one_tasks_loss_sends_no_gradient_into_another_tasks_attention(make_model):
    model = make_model("task_attention")
    _randomise_attention(model)
    outputs = model(torch.randn(8, FEATURES))
    outputs["parity"].pow(2).sum().backward()
    for name in TASKS:
        for parameter in model.attention[name].parameters():
            if name == "parity":
                assert parameter.grad is not None and parameter.grad.abs().sum() > 0
            else:
                assert parameter.grad is None or torch.count_nonzero(parameter.grad) == 0
    assert model.circuit.weights.grad.abs().sum() > 0  # the shared circuit does learn from parity
    shared = {id(p) for p in model.shared_parameters()}
    for name, group in zip(model.task_names, model.task_parameters()):
        assert {id(p) for p in model.attention[name].parameters()} <= {id(p) for p in group}
        assert not shared & {id(p) for p in group}


def test_uniform_attention_over_the_own_words_is_hard_sharing(make_model):
    """Same encoder, circuit and head weights: identical outputs, to the last bit."""
    shared = make_model("hard_sharing", seed=3)
    attention = make_model("task_attention", {"attend_over": OWN_WORDS}, seed=4)
    attention.encoder.load_state_dict(shared.encoder.state_dict())
    attention.circuit.load_state_dict(shared.circuit.state_dict())
    attention.heads.load_state_dict(shared.heads.state_dict())
    x = torch.randn(7, FEATURES)
    expected, got = shared(x), attention(x)
    for name in TASKS:
        assert torch.equal(got[name], expected[name])
    _randomise_attention(attention)  # non-uniform attention changes the outputs
    assert not torch.allclose(attention(x)["digit"], expected["digit"])


@pytest.mark.parametrize(("features", "extra"), [
    ("task_words", []),
    ("all_z", []),  # the tiny tasks already read every Z
    ("all_zz", ["Z1 Z2"]),
])
def test_feature_sets_are_measured_in_one_execution(make_model, tiny_config, features, extra):
    model = make_model("task_attention", {"features": features})
    assert model.circuit.observables == ["Z0", "Z1", "Z2", "Z3", "Z0 Z1", "Z2 Z3", *extra]
    with qml.Tracker(model.circuit.qnode.device) as tracker:
        model(torch.randn(4, FEATURES))
    assert tracker.totals["simulations"] == 1


def test_all_z_adds_the_unread_wires(make_model, tiny_config):
    tiny_config["tasks"] = [{"name": "a", "kind": "binary", "observables": ["X0"]},
                            {"name": "b", "kind": "binary", "observables": ["Y1 X2"]}]
    model = make_model("task_attention", {"features": "all_z", "attend_over": {"a": ["X0", "Z3"]}})
    assert model.circuit.observables == ["X0", "Y1 X2", "Z0", "Z1", "Z2", "Z3"]
    assert model.attended_words() == {"a": ["X0", "Z3"], "b": ["X0", "Y1 X2", "Z0", "Z1", "Z2", "Z3"]}
    assert model.heads["a"].linear.in_features == 2


def _config(tiny_config, options, **device):
    tiny_config["model"].update(architecture="task_attention", options=options)
    tiny_config["data"]["limit"] = 120
    tiny_config["training"].update(epochs=2, conflict_diagnostic=False)
    if device:
        tiny_config["device"] = device
    return validate_config(tiny_config)


@pytest.mark.parametrize("device", [{}, {"name": "aer"}], ids=["default.qubit", "aer"])
def test_trains_and_records_each_tasks_attention_per_epoch(tiny_config, tmp_path, device):
    config = _config(tiny_config, {"features": "all_zz"}, **device)
    trainer = Trainer(config, RunDir(tmp_path / "run"), progress=False)
    before = {name: p.detach().clone() for name, p in trainer.model.attention.named_parameters()}
    trainer.run()
    records = RunDir(tmp_path / "run").read_metrics()
    assert [r["epoch"] for r in records] == [1, 2]
    words = ["Z0", "Z1", "Z2", "Z3", "Z0 Z1", "Z2 Z3", "Z1 Z2"]
    for record in records:
        maps = record["attention"]["task_attention"]
        assert set(maps) == set(TASKS)
        for weights in maps.values():
            assert list(weights) == words
            assert abs(sum(weights.values()) - 1) < 1e-5 and all(w > 0 for w in weights.values())
    # attention learned: no longer uniform, and the recorded map is the model's own (last epoch, best or not)
    last = records[-1]["attention"]["task_attention"]["digit"]
    assert max(last.values()) - min(last.values()) > 1e-4
    assert any(not torch.equal(before[n], p) for n, p in trainer.model.attention.named_parameters())


def test_a_run_without_attention_records_none(tiny_config, tmp_path):
    tiny_config["data"]["limit"] = 80
    tiny_config["training"].update(epochs=1, conflict_diagnostic=False)
    Trainer(validate_config(tiny_config), RunDir(tmp_path / "run"), progress=False).run()
    assert RunDir(tmp_path / "run").read_metrics()[0]["attention"] is None


BAD_OPTIONS = {
    "word not measured": ({"attend_over": {"digit": ["Z0", "X1"]}},
                          "model.options.attend_over.digit lists 'X1', which the shared circuit does not measure, "
                          "so task 'digit' cannot read it"),
    "wire outside the circuit": ({"features": "all_z", "attend_over": {"ge5": ["Z7"]}},
                                 "lists 'Z7', which the shared circuit does not measure"),
    "unknown task": ({"attend_over": {"digits": ["Z0"]}}, "names task 'digits', which the config does not have"),
    "bad word": ({"attend_over": {"digit": ["Q0"]}}, "model.options.attend_over.digit: bad Pauli factor 'Q0'"),
    "empty list": ({"attend_over": {"digit": []}}, "model.options.attend_over.digit is empty"),
    "repeated word": ({"attend_over": {"digit": ["Z0", "z0"]}}, "lists 'Z0' twice"),
    "softmax over one word": ({"attend_over": {"parity": ["Z0"]}}, "a softmax over one value is always 1"),
    "bad attention": ({"attention": "sparsemax"}, "choose one of softmax, mask"),
    "bad features": ({"features": "all_x"}, "choose one of task_words, all_z, all_zz"),
    "unknown option": ({"heads": 2}, "unknown model.options key 'heads' for architecture 'task_attention'"),
}


@pytest.mark.parametrize("case", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_bad_options_exit_2_with_one_line_and_write_nothing(tiny_config, tmp_path, capsys, case):
    options, message = case
    tiny_config["model"].update(architecture="task_attention", options=options)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(tiny_config))
    out = tmp_path / "run"
    assert main(["train", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qmtl: error: ") and message in err, err
    assert not out.exists()


def test_readout_none_needs_one_attended_word_per_output(make_model, tiny_config):
    from qmtl.errors import UserError

    tiny_config["tasks"] = [{"name": "y", "kind": "regression", "outputs": 2, "readout": "none",
                             "observables": ["Z0", "Z1"]}]
    with pytest.raises(UserError, match="readout 'none' outputs the attended features, 4 of them"):
        make_model("task_attention", {"features": "all_z"})
    model = make_model("task_attention", {"attention": "mask"})
    assert model(torch.randn(3, FEATURES))["y"].shape == (3, 2)


def test_attention_maps_are_json(make_model):
    model = make_model("task_attention")
    maps = model.attention_maps(torch.randn(4, FEATURES))
    assert json.loads(json.dumps(maps)) == maps
