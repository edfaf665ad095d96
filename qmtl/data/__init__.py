"""Data sets by name; every loader's output is checked, split and standardised alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qmtl.config import DataConfig
from qmtl.data.base import MultiTaskData, RawData, Split, prepare
from qmtl.data.csv_loader import load_csv
from qmtl.data.digits import load_digits
from qmtl.errors import unknown_name
from qmtl.tasks import TaskConfig

Loader = Callable[[DataConfig, Sequence[TaskConfig]], RawData]

DATASETS: dict[str, Loader] = {
    "digits": lambda cfg, tasks: load_digits(cfg.path, cfg.features, cfg.options),
    "csv": lambda cfg, tasks: load_csv(cfg.path, cfg.features, cfg.options, [t.name for t in tasks]),
}


def load_data(config: DataConfig, tasks: Sequence[TaskConfig], seed: int) -> MultiTaskData:
    """Load the configured data set and return checked, seeded, standardised splits."""
    if config.name not in DATASETS:
        raise unknown_name("data set", config.name, DATASETS)
    raw = DATASETS[config.name](config, tasks)
    return prepare(raw, tasks, config.val_fraction, config.test_fraction, seed, config.limit)


__all__ = ["DATASETS", "MultiTaskData", "RawData", "Split", "load_data"]
