"""Uncertainty weighting learns weights exp(-s_i) -> 1 / sigma_i^2 (Kendall et al. 2018)."""

from __future__ import annotations

import pytest
import torch

from qmtl.errors import UserError
from qmtl.strategies import build_strategy


@pytest.mark.parametrize(("form", "scale"), [("kendall", 0.5), ("doubled", 1.0)])
def test_weights_converge_to_inverse_noise_variance(form: str, scale: float) -> None:
    # Three linear regression tasks on shared inputs with known residual noise sigma_i.  The
    # model can fit the means exactly, so each MSE tends to the sample noise variance and the
    # stationary point of c (exp(-s) L + s) is exp(-s_i) = 1 / MSE_i: weight c / sigma_i^2.  The
    # sample variance of n = 4000 Gaussian draws has relative s.d. sqrt(2 / n) = 2.2 %; 10 % is
    # > 4 s.d.
    generator = torch.Generator().manual_seed(0)
    n, dim = 4000, 5
    sigmas = torch.tensor([0.5, 1.0, 2.0])
    x = torch.randn(n, dim, generator=generator)
    true_w = torch.randn(dim, 3, generator=generator)
    y = x @ true_w + sigmas * torch.randn(n, 3, generator=generator)

    shared = torch.nn.Linear(dim, dim)
    heads = [torch.nn.Linear(dim, 1) for _ in range(3)]
    strategy = build_strategy("uncertainty", n_tasks=3, options={"form": form})
    params = [*shared.parameters(), *(p for h in heads for p in h.parameters())]
    optimizer = torch.optim.Adam([*params, *strategy.parameters()], lr=0.05)
    for _ in range(600 if form == "doubled" else 900):
        optimizer.zero_grad()
        features = shared(x)
        losses = torch.stack(
            [((head(features).squeeze(1) - y[:, i]) ** 2).mean() for i, head in enumerate(heads)]
        )
        weights = strategy.backward(
            losses, list(shared.parameters()), [list(h.parameters()) for h in heads]
        )
        optimizer.step()

    expected = scale / sigmas**2
    assert torch.all(weights[:-1] > weights[1:])  # ordering: noisier task, smaller weight
    torch.testing.assert_close(weights, expected, rtol=0.10, atol=0.0)


def test_kendall_form_is_half_likelihood_gradient() -> None:
    """Kendall et al.: d/dL_i [L_i / (2 sigma_i^2) + log sigma_i] = 1 / (2 sigma_i^2), and
    d/ds_i = -L_i e^{-s_i} / 2 + 1/2 with s_i = log sigma_i^2; the doubled form is twice both."""
    losses = torch.tensor([0.3, 2.0], requires_grad=True)
    for form, scale in (("kendall", 0.5), ("doubled", 1.0)):
        strategy = build_strategy("uncertainty", n_tasks=2, options={"form": form})
        with torch.no_grad():
            strategy.log_variances.copy_(torch.tensor([0.4, -0.7]))
        losses.grad = None
        weights = strategy.backward(losses, [], [[], []])
        sigma2 = torch.exp(strategy.log_variances.detach())
        torch.testing.assert_close(losses.grad, scale * 2 / (2 * sigma2))
        torch.testing.assert_close(weights, scale * 2 / (2 * sigma2))
        torch.testing.assert_close(strategy.log_variances.grad, scale * (1 - losses.detach() / sigma2))


def test_unknown_form_is_a_user_error() -> None:
    with pytest.raises(UserError, match="uncertainty option 'form' is 'libmtl'; choose one of kendall, doubled"):
        build_strategy("uncertainty", n_tasks=2, options={"form": "libmtl"})
