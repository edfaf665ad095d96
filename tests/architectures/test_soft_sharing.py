import torch

from architecture_models import FEATURES


def test_penalty_is_the_pairwise_squared_distance(make_model):
    model = make_model("soft_sharing", {"penalty": 0.3})
    weights = model.circuit_weights()
    assert len(weights) == 3
    expected = 0.3 * sum(
        ((weights[s] - weights[t]) ** 2).sum() for s in range(3) for t in range(s + 1, 3)
    )
    assert torch.allclose(model.regularization(), expected)


def test_penalty_gradient_pulls_the_circuits_together(make_model):
    model = make_model("soft_sharing", {"penalty": 0.01})
    weights = model.circuit_weights()
    model.regularization().backward()
    mean = torch.stack([w.detach() for w in weights]).mean(dim=0)
    for w in weights:
        # dR/dw_t = 2 lambda sum_s (w_t - w_s) = 2 lambda K (w_t - mean)
        assert torch.allclose(w.grad, 2 * 0.01 * 3 * (w.detach() - mean), atol=1e-6)
    before = model.regularization().item()
    with torch.no_grad():
        for w in weights:
            w -= 1.0 * w.grad
    assert model.regularization().item() < before


def test_zero_penalty_and_no_shared_parameter(make_model):
    model = make_model("soft_sharing", {"penalty": 0})
    assert model.regularization().item() == 0
    assert model.shared_parameters() == []
    assert model(torch.randn(2, FEATURES))["digit"].shape == (2, 10)


def test_other_architectures_have_no_penalty(make_model):
    assert make_model("hard_sharing").regularization().item() == 0
