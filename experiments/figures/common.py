"""Shared helpers of the figure scripts: arguments, runs over seeds, mean ± std, output.

Every figure script is ``python experiments/figures/<name>.py [--quick] [--out DIR]
[--runs DIR]``.  It trains (or counts, or times) what it plots, writes ``<name>.png``,
``<name>.pdf`` and ``<name>.csv`` (the numbers behind the plot) into ``--out``
(default ``docs/figures/``), and keeps its run directories under ``--runs`` (default
``runs/figures/<name>``).  A run directory that already holds a complete run of the same
resolved config is reused, so re-plotting costs nothing; any other content is retrained.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from qmtl.config import RunConfig, apply_override, dump_config, read_yaml, validate_config  # noqa: E402
from qmtl.rundir import RunDir  # noqa: E402
from qmtl.training import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "docs" / "figures"
STYLE = {
    "figure.dpi": 120, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 10, "axes.grid": True,
    "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
}
plt.rcParams.update(STYLE)


def arguments(doc: str | None, name: str) -> argparse.Namespace:
    """``--quick``, ``--out`` and ``--runs`` (the latter defaulting to ``runs/figures/<name>``)."""
    parser = argparse.ArgumentParser(description=(doc or name).splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (CI): seconds, not minutes")
    parser.add_argument("--out", type=Path, default=FIGURES, help="where the PNG, PDF and CSV go")
    parser.add_argument("--runs", type=Path, default=Path("runs") / "figures" / name,
                        help="where the run directories go")
    return parser.parse_args()


def read_config(name: str) -> dict[str, Any]:
    """The raw example config ``experiments/configs/<name>``."""
    return read_yaml(ROOT / "experiments" / "configs" / name)


def configure(base: dict[str, Any], overrides: dict[str, Any], seed: int) -> RunConfig:
    """``base`` with ``key.path`` overrides (the meaning of ``qmtl train --set``) and a seed."""
    raw = copy.deepcopy(base)
    for key, value in overrides.items():
        apply_override(raw, f"{key}={json.dumps(value)}")
    raw["seed"] = seed
    return validate_config(raw)


def run(config: RunConfig, path: Path) -> dict[str, Any]:
    """Train ``config`` into ``path`` (or reuse a complete run of the same config there)."""
    run_dir = RunDir(path)
    if run_dir.is_complete() and run_dir.final.exists() and \
            run_dir.config.read_text(encoding="utf-8") == dump_config(config):
        return json.loads(run_dir.final.read_text(encoding="utf-8"))
    return train(config, run_dir, progress=False, force=True)


def run_grid(base: dict[str, Any], settings: dict[str, dict[str, Any]], seeds: Iterable[int],
             root: Path) -> list[tuple[str, int, Path, dict[str, Any]]]:
    """Every labelled setting x seed, one at a time: ``(label, seed, run path, final.json)``."""
    results = []
    for label, overrides in settings.items():
        for seed in seeds:
            path = root / f"{label},seed={seed}"
            started = time.perf_counter()
            final = run(configure(base, overrides, seed), path)
            print(f"  {path}: {time.perf_counter() - started:.1f} s", flush=True)
            results.append((label, seed, path, final))
    return results


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value, drawn as no error bar)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def save(figure: plt.Figure, rows: Sequence[dict[str, Any]], out: Path, name: str) -> None:
    """Write ``name.png``, ``name.pdf`` and ``name.csv`` (one row per plotted value) to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(out / f"{name}.png")
    figure.savefig(out / f"{name}.pdf")
    plt.close(figure)
    columns = list(dict.fromkeys(column for row in rows for column in row))
    with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out / name}.png/.pdf/.csv ({len(rows)} rows)")
