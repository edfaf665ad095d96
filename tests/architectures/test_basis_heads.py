import torch
from architecture_models import FEATURES

from qmtl.lightcone import expand


def test_zero_rotations_equal_hard_sharing_with_the_same_weights(make_model):
    basis = make_model("basis_heads")
    hard = make_model("hard_sharing")
    hard.encoder.load_state_dict(basis.encoder.state_dict())
    with torch.no_grad():
        # hard sharing keeps fewer angles (its last RZs meet Z words directly); the ones it
        # drops cannot change its outputs, so the live ones are all that must agree
        shared = expand(basis.circuit.weights, basis.circuit.live)
        hard.circuit.weights.copy_(shared[hard.circuit.live])
        for name in hard.task_names:
            hard.heads[name].load_state_dict(basis.heads[name].state_dict())
    assert all(torch.all(block.weights == 0) for block in basis.circuit.blocks)
    x = torch.randn(6, FEATURES)
    out_basis, out_hard = basis(x), hard(x)
    for name in out_hard:
        assert torch.allclose(out_basis[name], out_hard[name], atol=1e-5)


def test_gradients_reach_the_head_rotations(make_model):
    model = make_model("basis_heads")
    outputs = model(torch.randn(8, FEATURES))
    sum(o.pow(2).sum() for o in outputs.values()).backward()
    for block in model.circuit.blocks:
        # at zero rotation only theta (the RY) tilts a Z measurement: phi commutes with it there
        theta = expand(block.weights.grad, block.live)[:, 1]
        assert torch.all(theta.abs() > 0)


def test_rotations_change_what_a_task_reads_only_for_that_task(make_model):
    model = make_model("basis_heads")
    x = torch.randn(4, FEATURES)
    before = model(x)
    with torch.no_grad():
        model.circuit.blocks[1].weights += 1.0  # task 'parity'
    after = model(x)
    assert not torch.allclose(before["parity"], after["parity"])
    assert torch.allclose(before["digit"], after["digit"]) and torch.allclose(before["ge5"], after["ge5"])


def test_one_rotation_per_measured_wire(make_model):
    model = make_model("basis_heads")
    counts = model.parameter_counts()["heads"]
    # every task reads Z words on all 4 wires: R_Z(phi) and R_Y(theta) per wire; the last
    # R_Z(omega) commutes with Z and is no parameter.
    # digit: 4 x 2 + 4x10 affine; parity: 4 x 2 + 4x1; ge5 (Z0 Z1, Z2 Z3): 4 x 2 + 2x1
    assert counts == {"digit": 8 + 50, "parity": 8 + 5, "ge5": 8 + 3}
    for block in model.circuit.blocks:
        assert block.live[:, :2].all() and not block.live[:, 2].any()


def test_x_and_y_words_keep_all_three_angles(make_model, tiny_config):
    tiny_config["tasks"] = [{"name": "r", "kind": "regression", "outputs": 2, "observables": ["X0", "Y1 Z2"]}]
    (block,) = make_model("basis_heads", raw=tiny_config).circuit.blocks
    assert block.live.tolist() == [[True, True, True], [True, True, True], [True, True, False]]
