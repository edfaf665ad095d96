"""Loading user-supplied Aer noise models (``device.noise`` given as a file path)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from qiskit_aer.noise import NoiseModel

from qmtl.errors import UserError

NOISE_SUFFIXES = (".json", ".pkl", ".pickle")


def looks_like_path(noise: str) -> bool:
    """A ``noise`` value is a path when it names a file type we read or contains a separator."""
    return noise.endswith(NOISE_SUFFIXES) or "/" in noise or "\\" in noise


def load_noise_model(path: str | Path) -> NoiseModel:
    """Read a ``NoiseModel`` saved as JSON (``NoiseModel.to_dict(serializable=True)``) or pickle."""
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"noise model file '{path}' not found; give an existing .json or .pkl file "
            "or a fake backend name such as fake_manila"
        )
    try:
        if path.suffix == ".json":
            model = NoiseModel.from_dict(json.loads(path.read_text()))
        else:
            with path.open("rb") as handle:
                model = pickle.load(handle)  # noqa: S301 - the user's own file
    except Exception as exc:  # any parse failure is the user's file, not our bug
        raise UserError(f"cannot read noise model '{path}': {exc}; save it with "
                        "json.dump(model.to_dict(serializable=True)) or pickle.dump(model)") from exc
    if not isinstance(model, NoiseModel):
        raise UserError(
            f"'{path}' holds a {type(model).__name__}, not a qiskit_aer NoiseModel; "
            "pickle a qiskit_aer.noise.NoiseModel instead"
        )
    return model
