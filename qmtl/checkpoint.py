"""Atomic files and safe checkpoints.

Every file a run depends on is written to a temporary file in the same directory,
flushed and fsync'ed, then renamed over the target: a crash leaves either the old file
or the new one, never half of one.  Checkpoints hold only tensors and plain Python data
and load with ``torch.load(..., weights_only=True)``, so a checkpoint from elsewhere
cannot run code.  Each checkpoint records a fingerprint of the model-defining config; a
checkpoint from a different model is refused with the differing keys named.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import torch

from qmtl.errors import UserError


class CorruptCheckpoint(UserError):
    """A checkpoint file that cannot be read safely (truncated, corrupted or unsafe)."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=False) + "\n")


def model_fingerprint(model_config: dict[str, Any]) -> str:
    """A short hash of the config parts that define parameter shapes and meaning."""
    blob = json.dumps(model_config, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def save_checkpoint(path: Path, state: dict[str, Any], previous: Path | None = None) -> None:
    """Serialise ``state`` (tensors and plain data only) atomically.

    With ``previous``, the checkpoint being replaced is kept there first (a hard link, so
    ``path`` itself is never missing), leaving one older good checkpoint to fall back on.
    """
    buffer = io.BytesIO()
    torch.save(state, buffer)
    if previous is not None and path.exists():
        link = previous.with_name(f".{previous.name}.link-{os.getpid()}")
        link.unlink(missing_ok=True)  # left by a crash between link and rename
        os.link(path, link)
        os.replace(link, previous)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: Path, model_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load a checkpoint safely; refuse truncated, tampered or foreign ones with one line."""
    if not path.exists():
        raise UserError(f"checkpoint '{path}' does not exist; check the run directory")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - arbitrary bytes fail in arbitrary ways
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CorruptCheckpoint(
            f"checkpoint '{path}' is truncated, corrupted or not a safe qmtl checkpoint ({first[:120]}); "
            f"delete it, or retrain"
        ) from None
    if not isinstance(state, dict) or "fingerprint" not in state:
        raise UserError(f"'{path}' is not a qmtl checkpoint; point to a run directory written by qmtl")
    if model_config is not None and state["fingerprint"] != model_fingerprint(model_config):
        saved = state.get("model_config", {})
        differing = sorted(k for k in set(saved) | set(model_config) if saved.get(k) != model_config.get(k))
        raise UserError(
            f"checkpoint '{path}' was written by a different model config (differs in: "
            f"{', '.join(differing) or 'unknown keys'}); resume with the run's own config.yaml"
        )
    return state
