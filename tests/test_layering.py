"""Dependencies point one way: ``qmtl.hardware`` builds on ``qmtl.devices``, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import qmtl.devices

DEVICES = Path(qmtl.devices.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names (top level or nested)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_devices_never_import_hardware():
    offenders = {
        f"{path.name}: {name}"
        for path in sorted(DEVICES.glob("*.py"))
        for name in imported_modules(path)
        if name == "qmtl.hardware" or name.startswith("qmtl.hardware.")
    }
    assert not offenders, offenders


def test_the_walk_sees_nested_imports(tmp_path):
    source = tmp_path / "example.py"
    source.write_text("def f():\n    from qmtl.hardware.plan import chunks\n    import qmtl.hardware\n")
    assert {"qmtl.hardware.plan", "qmtl.hardware"} <= imported_modules(source)
