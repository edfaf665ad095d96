"""Interleaved timing: the one way every benchmark and F7 measure peers side by side.

Each step is called once to warm up (QNode construction, first-call caches), then the
steps take turns ``repeats`` times, so load on a shared machine hits all of them alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


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
