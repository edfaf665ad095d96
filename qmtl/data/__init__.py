"""Data sets by name; every loader's output is checked, split and standardised alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qmtl.config import DataConfig
from qmtl.data.base import MultiTaskData, RawData, Split, prepare
from qmtl.data.breast_cancer import BreastCancerOptions, load_breast_cancer
from qmtl.data.csv_loader import CsvOptions, load_csv
from qmtl.data.digits import DigitsOptions, load_digits
from qmtl.data.linnerud import LinnerudOptions, load_linnerud
from qmtl.data.multidigits import MultidigitsOptions, load_multidigits
from qmtl.data.npz_loader import NpzOptions, load_npz
from qmtl.data.options import CommonDataOptions, DataOptions, parse_data_options
from qmtl.data.per_task import NAME as PER_TASK
from qmtl.data.per_task import PerTaskOptions, load_per_task
from qmtl.data.quantum_teacher import QuantumTeacherOptions, load_quantum_teacher
from qmtl.data.synthetic_correlated import SyntheticCorrelatedOptions, load_synthetic_correlated
from qmtl.errors import UserError, unknown_name
from qmtl.tasks import TaskConfig

Loader = Callable[[DataConfig, Sequence[TaskConfig]], RawData]

DATASETS: dict[str, Loader] = {
    "digits": lambda cfg, tasks: load_digits(cfg.options),
    "csv": lambda cfg, tasks: load_csv(cfg.path, cfg.features, cfg.options, [t.name for t in tasks]),
    "multidigits": lambda cfg, tasks: load_multidigits(cfg.options),
    "synthetic-correlated": lambda cfg, tasks: load_synthetic_correlated(cfg.options),
    "quantum-teacher": lambda cfg, tasks: load_quantum_teacher(cfg.options),
    "linnerud": lambda cfg, tasks: load_linnerud(cfg.options),
    "breast-cancer": lambda cfg, tasks: load_breast_cancer(cfg.options, [t.name for t in tasks]),
    "npz": lambda cfg, tasks: load_npz(cfg.path, cfg.options, [t.name for t in tasks]),
    PER_TASK: lambda cfg, tasks: load_per_task(cfg.options, tasks, load_raw),
}

#: Each data set's option model (``data.options``), by the same names as DATASETS.
DATA_OPTIONS: dict[str, type[DataOptions]] = {
    "digits": DigitsOptions,
    "csv": CsvOptions,
    "multidigits": MultidigitsOptions,
    "synthetic-correlated": SyntheticCorrelatedOptions,
    "quantum-teacher": QuantumTeacherOptions,
    "linnerud": LinnerudOptions,
    "breast-cancer": BreastCancerOptions,
    "npz": NpzOptions,
    PER_TASK: PerTaskOptions,
}

#: Loaders that read a user's file (``data.path``); only ``csv`` selects columns (``data.features``).
FILE_LOADERS = {"csv", "npz"}
COLUMN_LOADERS = {"csv"}


def split_identity(config: DataConfig, seed: int, digest: dict[str, Any]) -> dict[str, Any]:
    """Everything that decides which examples a run trains, validates and tests on.

    The config parts (seed, data set, file, columns, options, fractions, limit) and the
    digest of the split indices that ``prepare`` computed from them; recorded in every
    checkpoint, so a model is never evaluated on examples it was trained on.
    """
    return {
        "seed": seed, "name": config.name, "path": config.path, "features": config.features,
        "options": config.options, "val_fraction": config.val_fraction, "test_fraction": config.test_fraction,
        "limit": config.limit, **digest,
    }


def load_raw(config: DataConfig, tasks: Sequence[TaskConfig]) -> RawData:
    """The named data set's raw data, once ``data.path`` and ``data.features`` suit it."""
    if config.name not in DATASETS:
        raise unknown_name("data set", config.name, DATASETS)
    if config.path is not None and config.name not in FILE_LOADERS:
        raise UserError(f"data set '{config.name}' takes no data.path (it reads no file; files are read by "
                        f"{', '.join(sorted(FILE_LOADERS))}); remove data.path")
    if config.features is not None and config.name not in COLUMN_LOADERS:
        raise UserError(f"data set '{config.name}' takes no data.features (only csv selects columns); remove data.features")
    return DATASETS[config.name](config, tasks)


def load_data(config: DataConfig, tasks: Sequence[TaskConfig], seed: int) -> MultiTaskData:
    """Load the configured data set and return checked, seeded, standardised splits."""
    options = dict(config.options)
    # The options every data set takes are read here (``prepare`` uses them), the rest by the loader.
    common = {key: options.pop(key) for key in CommonDataOptions.model_fields if key in options}
    standardise = parse_data_options(config.name, CommonDataOptions, common).standardise_targets
    raw = load_raw(config.model_copy(update={"options": options}), tasks)
    data = prepare(raw, tasks, config.val_fraction, config.test_fraction, seed, config.limit, standardise)
    data.split = split_identity(config, seed, data.split)
    return data


__all__ = ["DATASETS", "DATA_OPTIONS", "MultiTaskData", "RawData", "Split", "load_data", "load_raw", "split_identity"]
