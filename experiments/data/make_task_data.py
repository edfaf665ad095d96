"""Write the small CSV files of the tasks-with-their-own-data examples (docs/datasets.md).

Two tasks over the same four features ``x0 .. x3 ~ N(0, 1)``:

* ``sign`` (binary): ``x0 + x1 > 0``;
* ``level`` (regression): ``0.8 x0 - 0.5 x2 + 0.3 x3 + N(0, 0.1^2)``.

Files, all generated from seed 0 (nothing is downloaded):

* ``sign.csv`` (160 rows) and ``level.csv`` (120 rows): one data set per task, drawn
  independently (``experiments/configs/per-task.yaml``);
* ``partial-labels.csv`` (200 rows, both task columns): each ``sign`` label is left empty
  with probability 0.3 and each ``level`` label with probability 0.6, independently
  (``experiments/configs/partial-labels.yaml``).

Run ``python experiments/data/make_task_data.py`` to regenerate them (the test
``tests/test_task_data.py`` checks that the committed files are exactly its output).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).resolve().parent
FEATURES = ["x0", "x1", "x2", "x3"]


def _draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, len(FEATURES)))
    sign = (x[:, 0] + x[:, 1] > 0).astype(int)
    level = x @ np.array([0.8, 0.0, -0.5, 0.3]) + rng.normal(scale=0.1, size=n)
    return x, sign, level


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.write_text(",".join(header) + "\n" + "".join(",".join(row) + "\n" for row in rows))


def _features(x: np.ndarray) -> list[list[str]]:
    return [[f"{value:.4f}" for value in row] for row in x]


def write_all(folder: Path = FOLDER) -> list[Path]:
    """Write the three CSV files into ``folder``; returns their paths."""
    rng = np.random.default_rng(0)
    x, sign, _ = _draw(rng, 160)
    _write(folder / "sign.csv", [*FEATURES, "sign"], [[*f, str(s)] for f, s in zip(_features(x), sign)])
    x, _, level = _draw(rng, 120)
    _write(folder / "level.csv", [*FEATURES, "level"], [[*f, f"{v:.4f}"] for f, v in zip(_features(x), level)])
    x, sign, level = _draw(rng, 200)
    sign_missing, level_missing = rng.random(200) < 0.3, rng.random(200) < 0.6
    rows = [[*f, "" if sm else str(s), "" if lm else f"{v:.4f}"]
            for f, s, v, sm, lm in zip(_features(x), sign, level, sign_missing, level_missing)]
    _write(folder / "partial-labels.csv", [*FEATURES, "sign", "level"], rows)
    return [folder / name for name in ("sign.csv", "level.csv", "partial-labels.csv")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FOLDER, help="folder to write into (default: this one)")
    for written in write_all(parser.parse_args().out):
        print(written)
