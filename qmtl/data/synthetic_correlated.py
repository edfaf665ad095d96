r"""Regression tasks of controlled relatedness: the synthetic data of MMoE.

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

The paper uses ``c = 1``, ``m = 10`` and ``d = 100`` (the defaults) and writes the noise as
:math:`\epsilon_t \sim \mathcal N(0, 0.01)`.  Whether 0.01 is the variance or the standard
deviation is not stated; ``noise`` is the *standard deviation*, and its default 0.1 reads
0.01 as the variance (the usual :math:`\mathcal N(\mu, \sigma^2)` convention); ``noise:
0.01`` reads it as the standard deviation.  At the defaults the labels' variance is between
about 1 and 6 depending on the draw, so either noise is small next to the signal.

``p`` is the cosine of the weight vectors, *not* the correlation of the labels: the sines
and the one draw of ``alpha, beta`` move the labels' Pearson correlation away from ``p``
(and from draw to draw; e.g. ``p = -0.5`` gave -0.31 at 16 features).  What a run saw is
:func:`label_correlation` of its targets (``final.json`` records it as
``label_correlation`` for every run on this data set); experiments that plot against task
relatedness should use that, and vary the generation ``seed`` with the run seed (as
``experiments/figures/f2_correlation.py`` does) so that seeds average over draws.

Tasks: ``t0``, ``t1``, ... (regression).  Options: ``tasks`` (k, default 2),
``correlation`` (p, default 0.5), ``n_samples`` (default 2000), ``n_features`` (d),
``scale`` (c), ``n_sines`` (m), ``noise`` (standard deviation, default 0.1) and ``seed``
(the generation seed, default 0: alone, every run seed sees the same data set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import Field

from qmtl.data.base import RawData, Split
from qmtl.data.options import DataOptions, parse_data_options
from qmtl.errors import UserError

NAME = "synthetic-correlated"


class SyntheticCorrelatedOptions(DataOptions):
    """Options of ``synthetic-correlated`` (MMoE's synthetic data, Ma et al. 2018)."""

    tasks: int = Field(2, ge=1, description="k, the number of regression tasks t0, t1, ...")
    correlation: float = Field(0.5, ge=-1, le=1, description="p, the cosine of every pair of task weight vectors "
                                                              "(at least -1/(k-1))")
    n_samples: int = Field(2000, ge=10, description="examples")
    n_features: int = Field(100, ge=1, description="d, the input width (at least k)")
    scale: float = Field(1.0, ge=0, description="c, the norm of each task's weight vector")
    n_sines: int = Field(10, ge=0, description="m, the sine terms of every label")
    noise: float = Field(0.1, ge=0, description="standard deviation of the label noise")
    seed: int = Field(0, ge=0, description="generation seed, independent of the run seed")


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


def label_correlation(targets: dict[str, np.ndarray]) -> float:
    """Mean pairwise Pearson correlation of the task labels (the one pair's for k = 2)."""
    names = sorted(targets)
    if len(names) < 2:
        raise UserError(f"'{NAME}': a label correlation needs at least 2 tasks, got {len(names)}")
    matrix = np.corrcoef(np.stack([np.asarray(targets[name], dtype=float) for name in names]))
    return float(matrix[np.triu_indices(len(names), k=1)].mean())


def splits_label_correlation(splits: Sequence[Split]) -> float:
    """:func:`label_correlation` of every row of ``splits`` together: the tasks' measured
    relatedness in the examples a run used (after ``data.limit``).  Pearson's correlation
    is unchanged by the per-task affine map of ``standardise_targets``, which is the same
    for every split, so standardised targets give the raw labels' value."""
    names = splits[0].targets
    return label_correlation({name: np.concatenate([split.targets[name].numpy() for split in splits])
                              for name in names})


def load_synthetic_correlated(given: Mapping[str, Any]) -> RawData:
    options = parse_data_options(NAME, SyntheticCorrelatedOptions, given)
    k, d, n, m, noise = options.tasks, options.n_features, options.n_samples, options.n_sines, options.noise
    rng = np.random.default_rng(options.seed)
    weights = task_weights(k, d, options.correlation, options.scale, rng)
    alpha, beta = rng.standard_normal(m), rng.standard_normal(m)
    x = rng.standard_normal((n, d))
    projections = x @ weights.T  # (n, k): w_t^T x
    sines = np.sin(projections[:, :, None] * alpha + beta).sum(axis=2)
    y = projections + sines + noise * rng.standard_normal((n, k))
    return RawData(x, {f"t{t}": y[:, t] for t in range(k)}, [f"x{i}" for i in range(d)], f"data set '{NAME}'")
