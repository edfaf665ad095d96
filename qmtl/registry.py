"""What is installed and registered: versions, devices, data sets and methods.

Only methods that can run are listed: an aggregator whose solver (quadprog, cvxpy, ...)
is not importable is listed apart, with the command that installs it.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from importlib import metadata

from pydantic import BaseModel

_PACKAGES = ("torch", "pennylane", "qiskit", "qiskit-aer", "qiskit-ibm-runtime", "torchjd", "numpy", "scikit-learn")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def aggregator_availability() -> tuple[list[str], dict[str, str]]:
    """Aggregators that build here, and the others mapped to why not (a one-line fix).

    Each aggregator is built for three tasks with its defaults (torchjd checks that its
    optional solvers are installed then) and aggregates a toy 3x3 Jacobian (which imports
    and runs the solver), as the first training step would.  Three tasks, because the robust
    aggregators (``krum``, ``trimmed_mean``) need at least three gradients.
    """
    import torch

    from qmtl.errors import UserError
    from qmtl.strategies import AGGREGATORS

    toy_jacobian = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0], [0.5, 0.5, 0.0]])
    available, missing = [], {}
    for name, spec in sorted(AGGREGATORS.items()):
        try:
            spec.build(name, 3, {})(toy_jacobian)
        except UserError as error:
            missing[name] = str(error)
        except ImportError as error:
            missing[name] = f"aggregator '{name}' cannot run: {error}"
        else:
            available.append(name)
    return available, missing


def with_options(registry: Mapping[str, type[BaseModel]]) -> list[str]:
    """Each component's name, followed by its option names in brackets when it has any."""
    return [f"{name} ({', '.join(model.model_fields)})" if model.model_fields else name
            for name, model in sorted(registry.items())]


def describe() -> str:
    """A readable summary for ``qmtl info``."""
    from qmtl import __version__
    from qmtl.ansatz import ANSATZE
    from qmtl.architectures import ARCHITECTURE_OPTIONS
    from qmtl.data import DATA_OPTIONS
    from qmtl.devices import device_names
    from qmtl.strategies import WEIGHTINGS

    lines = [f"qmtl {__version__} (Python {platform.python_version()})"]
    lines += [f"  {package}: {_version(package)}" for package in _PACKAGES]
    sections = {
        "devices": device_names(),
        "data sets": with_options(DATA_OPTIONS),
        "architectures": with_options(ARCHITECTURE_OPTIONS),
        "ansatze": sorted(ANSATZE),
        "weightings": sorted(WEIGHTINGS),
    }
    available, missing = aggregator_availability()
    sections["aggregators"] = available
    for title, names in sections.items():
        lines.append(f"{title}: {', '.join(names)}")
    lines += [f"unavailable: {reason}" for reason in missing.values()]
    lines.append(f"strategies runnable here: {len(WEIGHTINGS) + len(available)} (docs/strategies.md cites each)")
    lines.append("options (in brackets): their types, defaults and ranges are in docs/configuration.md")
    return "\n".join(lines)
