"""What is installed and registered: versions, devices, data sets and methods."""

from __future__ import annotations

import platform
from importlib import metadata

_PACKAGES = ("torch", "pennylane", "qiskit", "qiskit-aer", "qiskit-ibm-runtime", "torchjd", "numpy", "scikit-learn")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> str:
    """A readable summary for ``qmtl info``."""
    from qmtl import __version__
    from qmtl.ansatz import ANSATZE
    from qmtl.architectures import ARCHITECTURES
    from qmtl.data import DATASETS
    from qmtl.devices import device_names
    from qmtl.strategies import AGGREGATORS, WEIGHTINGS

    lines = [f"qmtl {__version__} (Python {platform.python_version()})"]
    lines += [f"  {package}: {_version(package)}" for package in _PACKAGES]
    sections = {
        "devices": device_names(),
        "data sets": sorted(DATASETS),
        "architectures": sorted(ARCHITECTURES),
        "ansatze": sorted(ANSATZE),
        "weightings": sorted(WEIGHTINGS),
        "aggregators": sorted(AGGREGATORS),
    }
    for title, names in sections.items():
        lines.append(f"{title}: {', '.join(names)}")
    return "\n".join(lines)
