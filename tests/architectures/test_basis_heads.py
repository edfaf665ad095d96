import torch

from architecture_models import FEATURES


def test_zero_rotations_equal_hard_sharing_with_the_same_weights(make_model):
    basis = make_model("basis_heads")
    hard = make_model("hard_sharing")
    hard.encoder.load_state_dict(basis.encoder.state_dict())
    with torch.no_grad():
        hard.circuit.weights.copy_(basis.circuit.weights)
        for name in hard.task_names:
            hard.heads[name].load_state_dict(basis.heads[name].state_dict())
    assert all(torch.all(block.rotations == 0) for block in basis.circuit.blocks)
    x = torch.randn(6, FEATURES)
    out_basis, out_hard = basis(x), hard(x)
    for name in out_hard:
        assert torch.allclose(out_basis[name], out_hard[name], atol=1e-5)


def test_gradients_reach_the_head_rotations(make_model):
    model = make_model("basis_heads")
    outputs = model(torch.randn(8, FEATURES))
    sum(o.pow(2).sum() for o in outputs.values()).backward()
    for block in model.circuit.blocks:
        # at zero rotation only theta (the RY) tilts a Z measurement: phi and omega commute with it
        assert torch.all(block.rotations.grad[:, 1].abs() > 0)


def test_rotations_change_what_a_task_reads_only_for_that_task(make_model):
    model = make_model("basis_heads")
    x = torch.randn(4, FEATURES)
    before = model(x)
    with torch.no_grad():
        model.circuit.blocks[1].rotations[:, 1] = 1.0  # task 'parity'
    after = model(x)
    assert not torch.allclose(before["parity"], after["parity"])
    assert torch.allclose(before["digit"], after["digit"]) and torch.allclose(before["ge5"], after["ge5"])


def test_one_rotation_per_measured_wire(make_model):
    counts = make_model("basis_heads").parameter_counts()["heads"]
    # digit: Z0..Z3 (4 wires) + 4x10 affine; parity: 4 wires + 4x1; ge5: Z0 Z1, Z2 Z3 (4 wires) + 2x1
    assert counts == {"digit": 12 + 50, "parity": 12 + 5, "ge5": 12 + 3}
