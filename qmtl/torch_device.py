"""Which torch device a run's model, data batches and backprop simulation use (``training.torch_device``).

``auto`` picks the first CUDA GPU when torch sees one and the circuit is simulated in torch
(``default.qubit``), else the CPU; ``cuda`` and ``cuda:N`` demand a GPU and are refused in one
line where there is none.  The model (encoder, circuit weights, heads, their buffers) is moved
there when the run is built, each batch's features are moved there before the forward pass,
and ``default.qubit`` then simulates on the device of its parameters (PennyLane's torch
interface keeps tensors where they are).  The per-task outputs come back to the CPU, a few
numbers per example, so losses, strategies and metrics stay device-agnostic.

On the Qiskit targets (``aer``, ``fake_*``, ``ibm:``) the circuit runs in Qiskit on the CPU
or a QPU and the model stays on the CPU whatever ``torch_device`` says: evaluation, export
and submission move a run trained on a GPU to these targets without another setting.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from qmtl.devices import PENNYLANE_NAMES
from qmtl.encoders import Features
from qmtl.errors import UserError

CPU = torch.device("cpu")


def resolve_torch_device(name: str, device_name: str) -> torch.device:
    """The torch device ``training.torch_device`` (``name``) names on this machine for a run
    on ``device.name`` (``device_name``).

    ``name`` has passed the config's check (``auto``, ``cpu``, ``cuda`` or ``cuda:N``);
    a CUDA device this machine lacks raises :class:`UserError`.
    """
    if device_name not in PENNYLANE_NAMES or name == "cpu":
        return CPU  # a Qiskit target computes the circuit outside torch
    if name == "auto":
        in_torch = device_name == "default.qubit" and torch.cuda.is_available()
        return torch.device("cuda", torch.cuda.current_device()) if in_torch else CPU
    if not torch.cuda.is_available():
        why = ("this torch is a CPU build" if torch.version.cuda is None
               else f"torch (CUDA {torch.version.cuda}) sees no CUDA GPU")
        raise UserError(f"training.torch_device is '{name}' but {why}; use training.torch_device: cpu (or auto), "
                        f"or install a CUDA build of torch on a GPU machine (docs/howto/gpu.md)")
    count = torch.cuda.device_count()
    index = int(name.partition(":")[2]) if ":" in name else torch.cuda.current_device()
    if index >= count:
        raise UserError(f"training.torch_device is '{name}' but this machine has {count} CUDA GPU(s), "
                        f"cuda:0 to cuda:{count - 1}; pick one of them")
    return torch.device("cuda", index)


def module_device(module: nn.Module) -> torch.device:
    """The device of ``module``'s first parameter or buffer (the CPU for a module with neither)."""
    first = next(iter([*module.parameters(), *module.buffers()]), None)
    return first.device if first is not None else CPU


def features_to(features: Features, device: torch.device) -> Features:
    """``features`` (a tensor, or a dict of modality tensors) on ``device``."""
    if isinstance(features, Mapping):
        return {name: value.to(device) for name, value in features.items()}
    return features.to(device)
