"""Atomic files and safe checkpoints.

Every file a run depends on is written to a temporary file in the same directory,
flushed and fsync'ed, then renamed over the target: a crash leaves either the old file
or the new one, never half of one.  Checkpoints hold only tensors and plain Python data
and load with ``torch.load(..., weights_only=True)``, so a checkpoint from elsewhere
cannot run code.  Each checkpoint records a fingerprint of the model-defining config; a
checkpoint from a different model is refused with the differing keys named.  It also
records the identity of the data split it was trained on (seed, data set, file, options,
fractions, limit and a hash of the split indices, see ``qmtl.data.split_identity``); a
checkpoint is only resumed or evaluated beside the same split, so a model is never scored
on examples it was trained on.  Checkpoints without that record (older qmtl) are refused
where a split is checked: what they were trained on cannot be verified.
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


def _differing(saved: dict[str, Any], current: dict[str, Any]) -> str:
    keys = sorted(k for k in set(saved) | set(current)
                  if json.dumps(saved.get(k), sort_keys=True) != json.dumps(current.get(k), sort_keys=True))
    return ", ".join(keys) or "unknown keys"


def check_split(path: Path, state: dict[str, Any], split: dict[str, Any]) -> None:
    """Refuse a checkpoint trained on another data split than ``split`` (or on an unrecorded one)."""
    saved = state.get("split")
    if not isinstance(saved, dict):
        raise UserError(
            f"checkpoint '{path}' records no data split (written by an older qmtl), so its training examples "
            f"cannot be checked against this split; retrain the run"
        )
    if model_fingerprint(saved) != model_fingerprint(split):
        raise UserError(
            f"checkpoint '{path}' was trained on another data split than this run's (differs in: "
            f"{_differing(saved, split)}); its training examples may be in the split used here: use it only "
            f"in the run directory that wrote it"
        )


def load_checkpoint(path: Path, model_config: dict[str, Any] | None = None,
                    split: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load a checkpoint safely; refuse truncated, tampered or foreign ones with one line.

    With ``model_config``, refuse a checkpoint of another model; with ``split``, one
    trained on another data split (:func:`check_split`).
    """
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
        raise UserError(
            f"checkpoint '{path}' was written by a different model config (differs in: "
            f"{_differing(saved if isinstance(saved, dict) else {}, model_config)}); "
            f"resume with the run's own config.yaml"
        )
    if split is not None:
        check_split(path, state, split)
    return state
