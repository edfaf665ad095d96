import math

import pytest
import torch
from architecture_models import FEATURES

from qmtl.errors import UserError


def _pairs(n: int):
    return [(s, t) for s in range(n) for t in range(s + 1, n)]


def _set_angles(model, rows: list[torch.Tensor]) -> None:
    """Give every circuit the live angles ``rows[t]`` picks from a full-layout tensor."""
    with torch.no_grad():
        for weights, mask, full in zip(model.circuits.weights, model.circuits.live, rows):
            weights.copy_(full[mask])


@pytest.mark.parametrize(("kind", "pair_penalty"), [
    ("circular", lambda d: (1 - torch.cos(d)).sum()),
    ("l2", lambda d: (d**2).sum()),
])
def test_penalty_is_the_pairwise_sum_over_shared_live_angles(make_model, kind, pair_penalty):
    model = make_model("soft_sharing", {"penalty": 0.3, "penalty_kind": kind})
    angles, live = model.circuits.full_weights(), model.circuits.live
    assert len(angles) == 3
    expected = 0.3 * sum(pair_penalty((angles[s] - angles[t])[live[s] & live[t]]) for s, t in _pairs(3))
    assert torch.allclose(model.regularization(), expected)


def test_circular_penalty_is_zero_for_circuits_equal_modulo_two_pi(make_model):
    model = make_model("soft_sharing", {"penalty": 0.03})
    base = model.circuits.full_weights()[0].detach()
    turns = torch.randint(-3, 4, (3, *base.shape)).double()
    _set_angles(model, [base + 2 * math.pi * turns[t] for t in range(3)])
    assert model.regularization().item() < 1e-9
    l2 = make_model("soft_sharing", {"penalty": 0.03, "penalty_kind": "l2"})
    _set_angles(l2, [base + 2 * math.pi * turns[t] for t in range(3)])
    assert l2.regularization().item() > 1  # the l2 form penalises the same circuits


def test_circular_gradient_pulls_through_zero_not_towards_pi(make_model, tiny_config):
    tiny_config["tasks"] = tiny_config["tasks"][:2]
    model = make_model("soft_sharing", {"penalty": 1.0}, raw=tiny_config)
    layout = model.circuits.live[0].shape
    _set_angles(model, [torch.full(layout, 0.1), torch.full(layout, 2 * math.pi - 0.1)])
    model.regularization().backward()
    low, high = model.circuits.weights
    # dR/dθ_0 = sin(θ_0 - θ_1) = sin(0.2 - 2π) > 0: gradient descent lowers 0.1 towards 0 ...
    assert torch.allclose(low.grad, torch.full_like(low, math.sin(0.2)), atol=1e-6)
    # ... and raises 2π - 0.1 towards 2π ≡ 0: both move through 0, away from π
    assert torch.allclose(high.grad, torch.full_like(high, -math.sin(0.2)), atol=1e-6)
    l2 = make_model("soft_sharing", {"penalty": 1.0, "penalty_kind": "l2"}, raw=tiny_config)
    _set_angles(l2, [torch.full(layout, 0.1), torch.full(layout, 2 * math.pi - 0.1)])
    l2.regularization().backward()
    assert torch.all(l2.circuits.weights[0].grad < 0)  # l2 pulls 0.1 up, towards π


def test_penalty_gradient_lowers_the_penalty(make_model):
    model = make_model("soft_sharing", {"penalty": 0.01})
    before = model.regularization()
    before.backward()
    with torch.no_grad():
        for w in model.circuits.weights:
            w -= 1.0 * w.grad
    assert model.regularization().item() < before.item()


def test_zero_penalty_and_no_shared_parameter(make_model):
    model = make_model("soft_sharing", {"penalty": 0})
    assert model.regularization().item() == 0
    assert model.shared_parameters() == []
    assert model(torch.randn(2, FEATURES))["digit"].shape == (2, 10)


def test_unknown_penalty_kind_is_a_user_error(make_model):
    with pytest.raises(UserError, match="penalty_kind for architecture 'soft_sharing' is 'von_mises'; choose one of circular, l2"):
        make_model("soft_sharing", {"penalty_kind": "von_mises"})


def test_other_architectures_have_no_penalty(make_model):
    assert make_model("hard_sharing").regularization().item() == 0
