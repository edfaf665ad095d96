"""Interleaved timing: the one way every benchmark and F7 measure peers side by side.

Each step is called once to warm up (QNode construction, first-call caches), then the
steps take turns ``repeats`` times, so load on a shared machine hits all of them alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from scipy.stats import binom


def interleaved_times(steps: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Seconds of every call of every step, after one warm-up call each."""
    for step in steps.values():
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return times


def ratio_interval(numerator: list[float], denominator: list[float],
                   confidence: float = 0.95) -> tuple[float, float, float]:
    """Median of the paired ratios ``numerator[i] / denominator[i]`` (one pair per interleaved
    round, so both saw the same load) and a distribution-free confidence interval for it.

    The interval is ``[r_(k), r_(n+1-k)]`` of the sorted ratios, with the largest ``k`` whose
    coverage :math:`1 - 2 P(\\mathrm{Bin}(n, 1/2) < k)` reaches ``confidence`` (the order-statistic
    interval for a median; Hollander, Wolfe & Chicken, *Nonparametric Statistical Methods*,
    3rd ed., §3.6).  With too few rounds for that coverage it is the full range, whose
    coverage is :math:`1 - 2^{1-n}`.
    """
    ratios = sorted(a / b for a, b in zip(numerator, denominator, strict=True))
    n = len(ratios)
    k = 1
    while k < n // 2 and 1 - 2 * binom.cdf(k, n, 0.5) >= confidence:
        k += 1
    return statistics.median(ratios), ratios[k - 1], ratios[n - k]
