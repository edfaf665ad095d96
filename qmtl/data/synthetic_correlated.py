"""Regression tasks of controlled relatedness: the synthetic data of MMoE.

Ma, Zhao, Yi, Chen, Hong and Chi, "Modeling Task Relationships in Multi-task Learning
with Multi-gate Mixture-of-Experts", KDD 2018, Sec. 3.2.  With ``d = n_features``,
``k = tasks`` and ``p = correlation``:

1. orthonormal ``u_1..u_k`` in R^d (QR of a Gaussian matrix; needs ``d >= k``);
2. task weights ``w_t = c * sum_j A[t, j] u_j`` with ``A A^T = G``, the k x k Gram matrix
   with unit diagonal and ``p`` off the diagonal (``A = V sqrt(Λ)`` from ``G = V Λ V^T``),
   so ``cos(w_s, w_t) = p`` exactly for every pair.  For k = 2 this is the paper's
   ``w_1 = c u_1``, ``w_2 = c (p u_1 + sqrt(1 - p^2) u_2)`` up to a rotation; ``G`` is
   positive semi-definite, i.e. such weights exist, iff ``p >= -1 / (k - 1)``;
3. ``x ~ N(0, I_d)``;
4. ``y_t = w_t^T x + sum_{i=1}^{m} sin(alpha_i w_t^T x + beta_i) + eps_t`` with the same
   ``alpha_i, beta_i ~ N(0, 1)`` for every task and ``eps_t ~ N(0, noise^2)``.

The paper uses ``c = 1``, ``m = 10``, ``d = 100`` and noise variance 0.01 (``noise: 0.1``);
those are the defaults.  Lower ``p`` gives less correlated targets — the knob MMoE uses
to show how task relatedness affects shared-bottom models.

Tasks: ``t0``, ``t1``, ... (regression).  Options: ``tasks`` (k, default 2),
``correlation`` (p, default 0.5), ``n_samples`` (default 2000), ``n_features`` (d),
``scale`` (c), ``n_sines`` (m), ``noise`` and ``seed`` (the generation seed, default 0,
independent of the run seed, so every run seed sees the same data set).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qmtl.data.base import RawData
from qmtl.data.options import check_known, number
from qmtl.errors import UserError

NAME = "synthetic-correlated"


def task_weights(k: int, d: int, correlation: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """``(k, d)`` weight vectors of norm ``scale`` with pairwise cosine ``correlation``."""
    if k > 1 and correlation < -1 / (k - 1) - 1e-12:
        raise UserError(
            f"'{NAME}': {k} tasks cannot all have pairwise cosine {correlation}; "
            f"the lowest possible is -1/(k-1) = {-1 / (k - 1):.4f}"
        )
    if d < k:
        raise UserError(f"'{NAME}': {k} tasks need n_features >= {k} orthogonal directions, got {d}; raise n_features")
    basis, _ = np.linalg.qr(rng.standard_normal((d, k)))
    gram = np.full((k, k), correlation) + (1 - correlation) * np.eye(k)
    eigenvalues, vectors = np.linalg.eigh(gram)
    # Clip the rounding-level negative eigenvalue at the boundary p = -1/(k-1).
    coefficients = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    return scale * coefficients @ basis.T


def load_synthetic_correlated(options: dict[str, Any]) -> RawData:
    check_known(NAME, options, {"tasks", "correlation", "n_samples", "n_features", "scale", "n_sines", "noise", "seed"})
    k = number(NAME, options, "tasks", 2, low=1, integer=True)
    d = number(NAME, options, "n_features", 100, low=1, integer=True)
    n = number(NAME, options, "n_samples", 2000, low=10, integer=True)
    m = number(NAME, options, "n_sines", 10, low=0, integer=True)
    noise = number(NAME, options, "noise", 0.1, low=0.0)
    correlation = number(NAME, options, "correlation", 0.5, low=-1.0, high=1.0)
    rng = np.random.default_rng(number(NAME, options, "seed", 0, low=0, integer=True))
    weights = task_weights(k, d, correlation, number(NAME, options, "scale", 1.0, low=0.0), rng)
    alpha, beta = rng.standard_normal(m), rng.standard_normal(m)
    x = rng.standard_normal((n, d))
    projections = x @ weights.T  # (n, k): w_t^T x
    sines = np.sin(projections[:, :, None] * alpha + beta).sum(axis=2)
    y = projections + sines + noise * rng.standard_normal((n, k))
    return RawData(x, {f"t{t}": y[:, t] for t in range(k)}, [f"x{i}" for i in range(d)], f"data set '{NAME}'")
