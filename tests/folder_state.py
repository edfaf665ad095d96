"""What a bad-input test compares before and after a refused command: nothing may change."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from qmtl.runlock import LOCK_FILES


def folder_state(path: Path) -> dict[str, str]:
    """Every entry under ``path`` (run locks aside: a refused command may take and drop one)
    with a hash of a file's bytes, a link's target, or ``dir``; a file path is its own entry."""
    if path.is_file():
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
    entries: dict[str, str] = {}
    for entry in sorted(path.rglob("*")):
        if entry.name in LOCK_FILES:
            continue
        name = str(entry.relative_to(path))
        if entry.is_symlink():
            entries[name] = f"-> {os.readlink(entry)}"
        elif entry.is_dir():
            entries[name] = "dir"
        elif entry.is_file():
            entries[name] = hashlib.sha256(entry.read_bytes()).hexdigest()
    return entries
