"""Packaging set-up of issue 13: the version is written once, and the wheel ships ``py.typed``.

(ruff and mypy themselves run in ``make test``, before pytest; see the Makefile.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import qmtl

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_written_only_in_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert metadata.version("qmtl") == qmtl.__version__


def test_the_wheel_ships_py_typed_and_the_package_version(tmp_path: Path) -> None:
    # Built from a copy, so that the build's scratch folders never land in the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "qmtl", source / "qmtl", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("qmtl-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_file = next(name for name in names if name.endswith(".dist-info/METADATA"))
        headers = archive.read(metadata_file).decode("utf-8")
    assert "qmtl/py.typed" in names
    assert f"\nVersion: {qmtl.__version__}\n" in headers
