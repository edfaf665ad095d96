"""User data from a NumPy ``.npz`` archive: arrays named by role.

* ``X`` — the features, ``(n_samples, n_features)``; or one array per modality
  ``X_<modality>`` (each ``(n_samples, d_m)``, one encoder each), not both;
* ``y_<task>`` — one array per configured task: ``(n_samples,)`` labels or values, or
  ``(n_samples, outputs)`` for multi-output regression.  NaN marks a missing label, for
  every kind of task (store class labels as floats then: ``[0, 1, nan]``); a multi-output
  row is missing whole (all NaN) or not at all.

Write one with ``numpy.savez("data.npz", X=X, y_label=y)``.  Archives are read with
``allow_pickle=False``: only plain arrays, no code.  Other arrays are ignored.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qmtl.data.base import RawData, check_data_file
from qmtl.data.options import DataOptions, parse_data_options
from qmtl.errors import UserError

NAME = "npz"


class NpzOptions(DataOptions):
    """``npz`` takes no options: the archive's array names say what each array is."""


def _read(path: Path) -> dict[str, np.ndarray]:
    check_data_file(path, ".npz")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise UserError(
                f"data file '{path}' is a single .npy array, not an .npz archive of named arrays; "
                f"write it with numpy.savez(path, X=features, y_<task>=labels)"
            )
        with loaded as archive:
            return {key: archive[key] for key in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        first = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise UserError(
            f"data file '{path}' is not a readable .npz of plain arrays ({first}); write it with numpy.savez"
        ) from None
    except MemoryError:
        raise UserError(f"data file '{path}' holds arrays too large for this machine's memory; use fewer rows") from None


def _numeric(file: Path, key: str, array: np.ndarray) -> np.ndarray:
    if np.iscomplexobj(array):
        raise UserError(f"array '{key}' in '{file}' holds complex numbers; give real and imaginary parts as real features")
    if not np.issubdtype(array.dtype, np.number) and array.dtype != np.bool_:
        raise UserError(f"array '{key}' in '{file}' holds {array.dtype} values, not numbers; encode it numerically")
    return array.astype(np.float64)


def load_npz(path: str | None, options: dict[str, Any], task_names: Sequence[str]) -> RawData:
    parse_data_options(NAME, NpzOptions, options)
    if path is None:
        raise UserError("data set 'npz' needs a file; set data.path: path/to/data.npz")
    file = Path(path)
    arrays = _read(file)
    present = ", ".join(sorted(arrays)) or "none"
    modalities = {key.removeprefix("X_"): value for key, value in arrays.items() if key.startswith("X_")}
    if "" in modalities:
        raise UserError(f"array 'X_' in '{file}' names no modality; call it X_<modality>, or X for one table")
    if "X" in arrays and modalities:
        raise UserError(f"'{file}' has both 'X' and per-modality arrays ({present}); keep one form")
    if "X" not in arrays and not modalities:
        raise UserError(f"'{file}' has no features: expected 'X' or 'X_<modality>'; keys present: {present}")
    targets = {}
    for task in task_names:
        if f"y_{task}" not in arrays:
            raise UserError(f"task '{task}' needs the array 'y_{task}' in '{file}'; keys present: {present}")
        targets[task] = arrays[f"y_{task}"]
    source = f"data file '{file}'"
    if modalities:
        names = {m: [f"{m}[{i}]" for i in range(v.shape[1] if v.ndim == 2 else 0)] for m, v in modalities.items()}
        return RawData({m: _numeric(file, f"X_{m}", v) for m, v in modalities.items()}, targets, names, source)
    features = arrays["X"]
    width = features.shape[1] if features.ndim == 2 else 0
    return RawData(_numeric(file, "X", features), targets, [f"X[{i}]" for i in range(width)], source)
