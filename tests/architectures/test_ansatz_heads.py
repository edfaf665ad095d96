import pennylane as qml
import pytest
import torch
from architecture_models import FEATURES

from qmtl.architectures import build_model
from qmtl.config import validate_config


@pytest.fixture
def float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize(("architecture", "reupload"), [
    ("ansatz_heads", False), ("ansatz_heads", True), ("basis_heads", False),
])
def test_shared_prefix_equals_per_task_full_circuits(make_model, tiny_config, architecture, reupload, float64):
    options = {"head_layers": 2} if architecture == "ansatz_heads" else {}
    tiny_config["model"]["encoding"] = {"reupload": reupload}
    if reupload:  # also the expectation-value path (non-Z words), not only Z-word probabilities
        tiny_config["tasks"][2]["observables"] = ["X0 Z1", "Y2"]
    tiny_config["model"]["ansatz"]["layers"] = 2
    fast = make_model(architecture, options, raw=tiny_config, shared_prefix=True)
    full = make_model(architecture, options, raw=tiny_config, shared_prefix=False)
    with torch.no_grad():  # non-zero rotations, so the basis heads are not the identity
        for block_fast, block_full in zip(fast.circuit.blocks, full.circuit.blocks):
            for p_fast, p_full in zip(block_fast.parameters(), block_full.parameters()):
                p_fast.copy_(torch.rand_like(p_fast) * 6)
                p_full.copy_(p_fast)
    x = torch.randn(7, FEATURES)
    outputs_fast, outputs_full = fast(x), full(x)
    for name in outputs_fast:
        assert outputs_fast[name].dtype == torch.float64
        assert torch.allclose(outputs_fast[name], outputs_full[name], atol=1e-6, rtol=0)
    for _model, outputs in ((fast, outputs_fast), (full, outputs_full)):
        torch.manual_seed(1)
        sum((o * torch.randn_like(o)).sum() for o in outputs.values()).backward()
    for (name, p_fast), p_full in zip(fast.named_parameters(), full.parameters()):
        assert p_fast.grad is not None and p_fast.grad.abs().sum() > 0, name
        assert torch.allclose(p_fast.grad, p_full.grad, atol=1e-6, rtol=0), name


def test_shared_prefix_is_simulated_once_for_all_tasks(make_model):
    model = make_model("ansatz_heads")
    assert model.circuit.shared_prefix  # default on default.qubit
    with qml.Tracker(model.circuit.device) as tracker:
        model(torch.randn(5, FEATURES))
    # one prefix state + one broadcast execution of every task's block
    assert tracker.totals["simulations"] == 2


def test_per_task_fallback_sends_one_circuit_per_task_in_one_batch(make_model):
    model = make_model("ansatz_heads", shared_prefix=False)
    with qml.Tracker(model.circuit.device) as tracker:
        model(torch.randn(5, FEATURES))
    assert tracker.totals["batches"] == 1
    assert tracker.totals["simulations"] == len(model.task_names)


def _one_word_tasks(n_tasks: int) -> list[dict]:
    return [{"name": f"t{i}", "kind": "binary", "observables": [f"Z{i % 4}"]} for i in range(n_tasks)]


def test_head_parameters_grow_linearly_in_the_number_of_tasks(make_model, tiny_config):
    per_word: dict[str, set[int]] = {}
    for n_tasks in (4, 8, 16):
        tiny_config["tasks"] = _one_word_tasks(n_tasks)
        model = make_model("ansatz_heads", {"head_layers": 1}, raw=tiny_config)
        counts = model.parameter_counts()
        for task, block in zip(tiny_config["tasks"], model.circuit.blocks):
            # the head's live angles (at most 1 layer x 4 wires x 2) + affine 1 -> 1
            assert counts["heads"][task["name"]] == int(block.live.sum()) + 2 <= 4 * 2 + 2
            per_word.setdefault(task["observables"][0], set()).add(counts["heads"][task["name"]])
    # a head's size depends on what its task measures, not on how many tasks there are
    assert all(len(sizes) == 1 for sizes in per_word.values())


def test_last_hardware_efficient_rz_before_z_words_is_not_a_parameter(make_model, tiny_config):
    tiny_config["tasks"] = [{"name": "t", "kind": "binary", "observables": ["Z0", "Z1", "Z2", "Z3"]}]
    model = make_model("ansatz_heads", {"head_layers": 1}, raw=tiny_config)
    (block,) = model.circuit.blocks
    assert block.live[0, :, 0].all() and not block.live[0, :, 1].any()  # RY kept, RZ dropped
    assert block.weights.numel() == 4


def test_head_options_shape_the_block(make_model):
    model = make_model("ansatz_heads", {"head_layers": 3, "head_ansatz": "strongly_entangling"})
    assert {tuple(block.layout) for block in model.circuit.blocks} == {(3, 4, 3)}
    assert all(block.weights.numel() == block.live.sum() for block in model.circuit.blocks)
    for block, params in zip(model.circuit.blocks, model.task_parameters()):
        assert id(block.weights) in {id(p) for p in params}
    shared = {id(p) for p in model.shared_parameters()}
    assert id(model.circuit.weights) in shared and not any(id(b.weights) in shared for b in model.circuit.blocks)


def test_readout_none_returns_the_block_expectation_values(make_model, tiny_config):
    tiny_config["tasks"] = [{"name": "r", "kind": "regression", "outputs": 2, "readout": "none",
                             "observables": ["Z0", "X1"]}]
    model = make_model("ansatz_heads", raw=tiny_config)
    output = model(torch.randn(3, FEATURES))["r"]
    assert output.shape == (3, 2) and torch.all(output.abs() <= 1 + 1e-6)
    # the head layer's RZ angles reach X1 only on wire 1 (RZ on a wire that ends up read in Z is dropped)
    (block,) = model.circuit.blocks
    assert model.parameter_counts()["heads"] == {"r": int(block.live.sum())}
    assert 0 < block.live[0, :, 1].sum() < 4


def test_qiskit_device_runs_one_circuit_per_task_in_one_call(tiny_config):
    """Off the simulator: prefix + block per task, every task in one Estimator call, and
    the same values and gradients as the shared-prefix simulation."""
    from qmtl.devices import build_device

    tiny_config["device"] = {"name": "aer"}
    config = validate_config({**tiny_config, "model": {**tiny_config["model"], "architecture": "ansatz_heads"}})
    device, diff_method = build_device(config.device, config.model.n_qubits, seed=0)
    torch.manual_seed(0)
    on_aer = build_model(config, FEATURES, device, diff_method)
    assert not on_aer.circuit.shared_prefix
    torch.manual_seed(0)
    simulated = build_model(config, FEATURES, qml.device("default.qubit", wires=4), "backprop")
    x = torch.randn(4, FEATURES)
    outputs = on_aer(x)
    assert device.primitive_calls == 1
    reference = simulated(x)
    for values in (outputs, reference):
        sum(v.pow(2).sum() for v in values.values()).backward()
    for name in outputs:
        assert torch.allclose(outputs[name], reference[name], atol=1e-5)
    for p_aer, p_sim in zip(on_aer.parameters(), simulated.parameters()):
        assert torch.allclose(p_aer.grad, p_sim.grad, atol=1e-5)
