"""The defining property of each method added from torchjd, checked against a formula written here."""

from __future__ import annotations

import math

import pytest
import torch

from qmtl.errors import UserError
from qmtl.strategies import AGGREGATORS, WEIGHTINGS, build_strategy


def _weighted(name: str, values: list[float], options: dict | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Losses L_i = theta_i * v_i at theta = 1: the gradient on theta_i is w_i v_i."""
    theta = torch.nn.Parameter(torch.ones(len(values)))
    v = torch.tensor(values)
    weights = build_strategy(name, n_tasks=len(values), options=options).backward(theta * v, [theta], [[]] * len(values))
    torch.testing.assert_close(theta.grad, weights * v)  # the update is the reported weighted sum
    return weights, v


def test_every_strategy_is_cited_with_a_link() -> None:
    papers = [cls.paper for cls in WEIGHTINGS.values()] + [spec.paper for spec in AGGREGATORS.values()]
    assert len(papers) >= 30
    assert all("http" in paper and any(str(y) in paper for y in range(2007, 2027)) for paper in papers)


def test_uncertainty_matches_kendall_formula_in_both_forms() -> None:
    for form, scale in (("kendall", 0.5), ("doubled", 1.0)):
        strategy = build_strategy("uncertainty", n_tasks=2, options={"form": form})
        with torch.no_grad():
            strategy.log_variances.copy_(torch.tensor([0.3, -0.4]))
        theta = torch.nn.Parameter(torch.ones(2))
        losses = theta * torch.tensor([2.0, 0.5])
        weights = strategy.backward(losses, [theta], [[], []])
        s = torch.tensor([0.3, -0.4])
        torch.testing.assert_close(weights, scale * torch.exp(-s))
        torch.testing.assert_close(strategy.log_variances.grad, scale * (1 - torch.tensor([2.0, 0.5]) * torch.exp(-s)))


def test_famo_matches_the_reference_update() -> None:
    """Weights z_i/L_i normalised; logits: one Adam step on grad_xi softmax(xi)^T (log L_before - log L_after)."""
    famo = build_strategy("famo", n_tasks=2, options={"lr": 0.1, "gamma": 0.0, "max_grad_norm": 0})
    logits = torch.zeros(2, requires_grad=True)
    adam = torch.optim.Adam([logits], lr=0.1, weight_decay=0.0)
    before, after = torch.tensor([1.0, 4.0]), torch.tensor([0.5, 3.9])
    for _ in range(3):
        theta = torch.nn.Parameter(torch.ones(2))
        weights = famo.backward(theta * before, [theta], [[], []])
        z = torch.softmax(logits.detach(), 0)
        torch.testing.assert_close(weights, (z / (before + 1e-8)) / (z / (before + 1e-8)).sum())
        famo.after_step(after)
        adam.zero_grad()
        (g,) = torch.autograd.grad(torch.softmax(logits, 0), logits,
                                   grad_outputs=torch.log(before + 1e-8) - torch.log(after + 1e-8))
        logits.grad = g
        adam.step()
    assert torch.softmax(logits.detach(), 0)[1] > 0.5  # the slow task gains weight


def test_imtl_l_weights_are_exp_scales_and_drive_scaled_losses_to_one() -> None:
    strategy = build_strategy("imtl_l", n_tasks=2)
    theta = torch.nn.Parameter(torch.ones(2))
    weights = strategy.backward(theta * torch.tensor([4.0, 0.25]), [theta], [[], []])
    torch.testing.assert_close(weights, torch.ones(2))
    (scale,) = strategy.parameters()
    torch.testing.assert_close(scale.grad, torch.tensor([4.0 - 1, 0.25 - 1]))  # d/ds (e^s L - s) at s=0


def test_geometric_mean_weights_are_inverse_to_the_losses() -> None:
    weights, v = _weighted("geometric_mean", [4.0, 1.0, 0.25])
    mean = math.prod(v.tolist()) ** (1 / 3)
    torch.testing.assert_close(weights, mean / (3 * v))
    # the same direction as the gradient of the mean log loss
    torch.testing.assert_close(weights / weights.sum(), (1 / v) / (1 / v).sum())


def test_stch_is_a_smooth_weighted_maximum() -> None:
    weights, v = _weighted("stch", [1.0, 3.0, 2.0], {"mu": 0.5, "preference": [1.0, 1.0, 1.0]})
    torch.testing.assert_close(weights, torch.softmax(v / 0.5, 0))
    sharp, _ = _weighted("stch", [1.0, 3.0, 2.0], {"mu": 0.01, "preference": [1.0, 1.0, 1.0]})
    assert sharp[1] > 0.999  # mu -> 0: all the weight on the worst task


def test_pbi_is_distance_along_the_preference_plus_theta_times_distance_from_it() -> None:
    theta_pbi, preference = 5.0, torch.tensor([1.0, 2.0])
    strategy = build_strategy("pbi", n_tasks=2, options={"theta": theta_pbi, "preference": [1.0, 2.0]})
    losses = torch.tensor([3.0, 1.0], requires_grad=True)
    value = strategy.objective(losses)
    w = preference / preference.norm()
    d1 = losses.detach() @ w
    d2 = (losses.detach() - d1 * w).norm()
    torch.testing.assert_close(value.detach(), d1 + theta_pbi * d2, atol=1e-5, rtol=1e-5)
    on_ray = strategy.objective(torch.tensor([1.0, 2.0]))
    torch.testing.assert_close(on_ray, torch.tensor(5.0).sqrt(), atol=1e-5, rtol=1e-5)  # no penalty on the ray


def test_cosmos_rewards_alignment_with_the_preference() -> None:
    strategy = build_strategy("cosmos", n_tasks=2, options={"lambda_": 2.0, "preference": [0.5, 0.5]})
    losses = torch.tensor([1.0, 3.0])
    r = torch.tensor([0.5, 0.5])
    expected = r @ losses - 2.0 * (r @ losses) / (r.norm() * losses.norm())
    torch.testing.assert_close(strategy.objective(losses), expected)


def test_static_uses_the_given_weights() -> None:
    weights, _ = _weighted("static", [1.0, 2.0, 3.0], {"weights": [0.5, 0.0, 2.0]})
    torch.testing.assert_close(weights, torch.tensor([0.5, 0.0, 2.0]))


def _aggregate(name: str, jacobian: torch.Tensor, options: dict | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Shared gradient and weights of an aggregator for losses whose Jacobian is ``jacobian``."""
    theta = torch.nn.Parameter(torch.zeros(jacobian.shape[1]))
    strategy = build_strategy(aggregator=name, n_tasks=jacobian.shape[0], options=options)
    weights = strategy.backward(jacobian @ theta, [theta], [[]] * jacobian.shape[0])
    return theta.grad, weights


def test_constant_aggregator_uses_the_given_weights() -> None:
    jacobian = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    grad, weights = _aggregate("constant", jacobian, {"weights": [2.0, -1.0, 0.5]})
    torch.testing.assert_close(grad, torch.tensor([2.0, -1.0, 0.5]) @ jacobian)


def test_krum_picks_the_gradient_closest_to_the_others() -> None:
    jacobian = torch.tensor([[1.0, 0.0], [1.1, 0.1], [0.9, 0.0], [10.0, -10.0]])
    distances = torch.cdist(jacobian, jacobian)
    # Krum score with f = 1 Byzantine: sum of the n - f - 2 = 1 smallest distances to the others
    scores = distances.sort(1).values[:, 1:2].sum(1)
    grad, weights = _aggregate("krum", jacobian, {"n_byzantine": 1})
    torch.testing.assert_close(grad, jacobian[scores.argmin()])
    assert weights[3] == 0  # the outlier is never picked


def test_trimmed_mean_drops_the_extremes_per_coordinate() -> None:
    jacobian = torch.tensor([[1.0, -100.0], [2.0, 0.0], [3.0, 1.0], [100.0, 2.0], [4.0, 3.0]])
    grad, _ = _aggregate("trimmed_mean", jacobian, {"trim_number": 1})
    torch.testing.assert_close(grad, torch.tensor([3.0, 1.0]))  # middle three of each column


def test_cr_mogm_smooths_the_base_weights_with_an_ema() -> None:
    first = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    second = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    strategy = build_strategy(aggregator="cr_mogm", n_tasks=2, options={"alpha": 0.5, "base": "mgda"})
    mgda = build_strategy(aggregator="mgda", n_tasks=2)
    lambdas = []
    for jacobian in (first, second):
        theta = torch.nn.Parameter(torch.zeros(2))
        smoothed = strategy.backward(jacobian @ theta, [theta], [[], []])
        theta_b = torch.nn.Parameter(torch.zeros(2))
        lambdas.append(mgda.backward(jacobian @ theta_b, [theta_b], [[], []]))
    torch.testing.assert_close(smoothed, 0.5 * lambdas[0] + 0.5 * lambdas[1])


def test_pcd_follows_the_primary_task_when_the_others_agree() -> None:
    jacobian = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # secondary already progresses along g_1
    grad, _ = _aggregate("pcd", jacobian)
    torch.testing.assert_close(grad, jacobian[0])


def test_excess_mtl_weights_stay_on_the_simplex() -> None:
    _, weights = _aggregate("excess_mtl", torch.tensor([[1.0, 0.0], [0.0, 3.0]]))
    torch.testing.assert_close(weights.sum(), torch.tensor(1.0))
    assert torch.all(weights >= 0)


@pytest.mark.parametrize(("name", "options", "message"), [
    ("krum", {}, "aggregator 'krum' needs at least 3 tasks"),
    ("trimmed_mean", {"trim_number": 1}, "needs at least 3 tasks"),
    ("constant", {"weights": [1.0]}, "one number per task"),
    ("cr_mogm", {"base": "cagrad"}, "choose one of"),
    ("pcd", {"tau": 2.0}, "option 'tau' must be in \\[0, 1\\]"),
])
def test_bad_aggregator_options_are_one_line_user_errors(name: str, options: dict, message: str) -> None:
    with pytest.raises(UserError, match=message) as error:
        build_strategy(aggregator=name, n_tasks=2, options=options)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("name", "options", "message"), [
    ("stch", {"mu": 0}, "stch option 'mu' must be a positive number"),
    ("pbi", {"preference": [1.0]}, "pbi option 'preference' needs one number per task"),
    ("cosmos", {"lambda_": True}, "must be a number"),
    ("static", {"weights": [0.0, 0.0]}, "must not be all zero"),
])
def test_bad_weighting_options_are_one_line_user_errors(name: str, options: dict, message: str) -> None:
    with pytest.raises(UserError, match=message) as error:
        build_strategy(name, n_tasks=2, options=options)
    assert "\n" not in str(error.value)
