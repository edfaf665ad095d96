"""scikit-learn's Linnerud data: three physiological targets from three exercises.

Twenty middle-aged men (Tenenhaus, "La régression PLS", 1998; bundled with scikit-learn,
no download).  Features: ``chins``, ``situps``, ``jumps``.  Tasks (regression):

* ``weight`` (pounds), ``waist`` (inches), ``pulse`` (beats per minute).

With 20 rows the default split leaves 3 validation and 4 test examples: a smoke test of
multi-target regression, not a benchmark.  The targets differ in scale (about 180, 35
and 55), so ``data.options.standardise_targets: true`` (see ``qmtl.data.base``) is
advisable for equally weighted losses.
"""

from __future__ import annotations

from typing import Any

from sklearn.datasets import load_linnerud as _sklearn_linnerud

from qmtl.data.base import RawData
from qmtl.data.options import DataOptions, parse_data_options

NAME = "linnerud"


class LinnerudOptions(DataOptions):
    """``linnerud`` takes no options."""


def load_linnerud(options: dict[str, Any]) -> RawData:
    parse_data_options(NAME, LinnerudOptions, options)
    bunch = _sklearn_linnerud()
    targets = {name.lower(): bunch.target[:, i] for i, name in enumerate(bunch.target_names)}
    return RawData(bunch.data, targets, [name.lower() for name in bunch.feature_names], f"data set '{NAME}'")
