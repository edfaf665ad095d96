r"""Training steps within ``training.max_state_memory``: the batch in chunks, the gradient unchanged.

A backprop simulation of :math:`n` qubits holds, per example, state vectors of :math:`2^n`
complex amplitudes: the ones autograd saves for the backward pass (about one per
parametrised gate) and a few in flight.  The memory of a pass over :math:`b` examples is
estimated as

.. math::

    M_\text{train}(b) = F + b\,(S + W s), \qquad M_\text{infer}(b) = F + b\,W s,

where :math:`S` is what autograd saves per example, measured once per model by a forward
pass on one and on two examples (:func:`torch.autograd.graph.saved_tensors_hooks` sees every
tensor saved for backward), :math:`F` what it saves whatever the batch (parameters, the
Z-sign matrix), :math:`s = 2^n \times` bytes per amplitude, and :math:`W` =
:data:`WORKING_STATES` the state vectors in flight beyond the saved ones, measured by
``experiments/benchmarks/bench_wide.py``.

When a batch does not fit the budget, the model runs on chunks of the batch, each under
activation checkpointing (:func:`torch.utils.checkpoint.checkpoint`, non-reentrant; Chen et
al., "Training Deep Nets with Sublinear Memory Cost", arXiv:1604.06174): the forward pass
keeps only each chunk's outputs, and every backward pass recomputes one chunk at a time.
The task losses are computed on the whole batch's concatenated outputs, exactly as without
chunks, so every strategy -- loss weightings, GradNorm, FAMO, and the torchjd aggregators,
which differentiate each task loss in its own backward pass -- receives the same losses and
the same gradients: each parameter's gradient is the same sum of per-example terms, grouped
by chunk, equal up to floating-point summation order.  This holds for models whose examples
do not interact in the forward pass (no batch statistics), as in every qmtl architecture.
The price is one more forward pass per chunk (the recomputation).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.checkpoint import checkpoint

from qmtl.config import RunConfig
from qmtl.devices import PENNYLANE_NAMES
from qmtl.encoders import Features
from qmtl.errors import UserError
from qmtl.model import MultiTaskModel
from qmtl.torch_device import CPU, features_to, module_device

DEFAULT_MEMORY_FRACTION = 0.5
"""Share of the machine's memory (the GPU's on CUDA) a step may use when ``training.max_state_memory``
is unset: half, leaving the rest to the data, the optimiser, the OS and other processes."""
WORKING_STATES = 16
"""State vectors per example in flight beyond those autograd saves (gate outputs, gradients in
the backward pass): above every value ``experiments/benchmarks/bench_wide.py`` measured at 16
and 20 qubits (1.1 to 12.8 over two runs, docs/howto/gpu.md).  Small chunks of mid-sized states can measure
more, from memory glibc's allocator keeps after it is freed rather than from live tensors."""
_CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")


def machine_memory(device: torch.device = CPU) -> int:
    """Bytes of memory on ``device``: the GPU's, or the RAM (a container's cgroup limit if lower)."""
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device).total_memory)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = _CGROUP_LIMIT.read_text().strip() if _CGROUP_LIMIT.is_file() else "max"
    return min(total, int(limit)) if limit.isdigit() else total


def default_budget(device: torch.device = CPU) -> int:
    """``training.max_state_memory`` when unset: :data:`DEFAULT_MEMORY_FRACTION` of the device's memory."""
    return int(machine_memory(device) * DEFAULT_MEMORY_FRACTION)


def size_text(n_bytes: float) -> str:
    """``n_bytes`` in the largest binary unit that keeps a number of at least 1, e.g. ``1.5 GiB``."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    power = min(int(math.log(max(n_bytes, 1), 1024)), len(units) - 1)
    return f"{n_bytes / 1024**power:.3g} {units[power]}"


def batch_length(features: Features) -> int:
    """Number of examples in ``features`` (a tensor, or a dict of modality tensors)."""
    first = next(iter(features.values())) if isinstance(features, Mapping) else features
    return len(first)


def features_slice(features: Features, start: int, stop: int) -> Features:
    """Examples ``start:stop`` of ``features``."""
    if isinstance(features, Mapping):
        return {name: value[start:stop] for name, value in features.items()}
    return features[start:stop]


def saved_tensor_bytes(model: MultiTaskModel, features: Features) -> int:
    """Bytes autograd saves for the backward pass of ``model(features)`` (each storage once).

    The pass runs on a forked random-number state, so measuring leaves training's random
    stream (dropout) as it was.
    """
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    device = module_device(model)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), \
            torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(features_to(features, device))
    return sum(storages.values())


@dataclass(frozen=True)
class MemoryPlan:
    """A model's estimated memory per pass, and the most examples a pass may hold within ``budget``."""

    budget: int
    """Bytes a pass may use (``training.max_state_memory``)."""
    fixed_bytes: int
    """What a pass saves whatever its batch (:math:`F`)."""
    saved_bytes_per_example: int
    """What autograd saves per example (:math:`S`)."""
    state_bytes: int
    """One example's state vector (:math:`s`)."""

    in_process: bool = True
    """False on a Qiskit target: its states live in Aer or on a QPU, not in this process, and a
    step must stay one primitive call, so nothing is measured and no pass is chunked."""

    @property
    def training_bytes_per_example(self) -> int:
        return self.saved_bytes_per_example + WORKING_STATES * self.state_bytes

    @property
    def training_chunk(self) -> int:
        """Most examples one forward-and-backward pass may hold (at least 1)."""
        if not self.in_process:
            return sys.maxsize
        return max(1, (self.budget - self.fixed_bytes) // self.training_bytes_per_example)

    @property
    def inference_chunk(self) -> int:
        """Most examples one forward pass without autograd may hold (at least 1)."""
        if not self.in_process:
            return sys.maxsize
        return max(1, (self.budget - self.fixed_bytes) // (WORKING_STATES * self.state_bytes))

    @property
    def chunk(self) -> int:
        """:attr:`training_chunk` while autograd records (``torch.is_grad_enabled()``), else :attr:`inference_chunk`."""
        return self.training_chunk if torch.is_grad_enabled() else self.inference_chunk


def plan_memory(model: MultiTaskModel, examples: Features, config: RunConfig, *, training: bool = True) -> MemoryPlan:
    """Measure ``model``'s memory per example on the first two of ``examples`` and plan for
    ``config.training.max_state_memory`` (unset: :func:`default_budget` of the model's device).

    Raises :class:`UserError` when one example's pass (a training step's when ``training``,
    else a forward pass without autograd) would not fit the budget.
    """
    budget = config.training.max_state_memory or default_budget(module_device(model))
    if config.device.name not in PENNYLANE_NAMES:
        # Measuring would run the model: Estimator calls on Aer, paid QPU time on IBM hardware.
        return MemoryPlan(budget, 0, 0, 0, in_process=False)
    n_qubits = config.model.n_qubits
    one, two = (saved_tensor_bytes(model, features_slice(examples, 0, size)) for size in (1, 2))
    per_example = max(two - one, 0)
    amplitude = torch.empty((), dtype=next(model.parameters()).dtype).element_size() * 2  # complex of that precision
    plan = MemoryPlan(budget, one - per_example, per_example, 2**n_qubits * amplitude)
    needed = plan.fixed_bytes + (plan.training_bytes_per_example if training else WORKING_STATES * plan.state_bytes)
    if needed > budget:
        raise UserError(
            f"training.max_state_memory is {size_text(budget)} but one example's {'training step' if training else 'evaluation'} "
            f"needs about {size_text(needed)} ({n_qubits} qubits); set training.max_state_memory to at least "
            f"{math.ceil(needed / 2**20)}MiB or use fewer qubits")
    return plan


def forward_in_chunks(model: MultiTaskModel, features: Features, chunk: int) -> dict[str, torch.Tensor]:
    """``model(features)`` on the model's device, ``chunk`` examples at a time, outputs on the CPU.

    With autograd on and more than ``chunk`` examples, each chunk runs under non-reentrant
    activation checkpointing, so a backward pass holds one chunk's graph at a time and gives
    the gradient of the whole batch.
    """
    device = module_device(model)
    total = batch_length(features)
    if total <= chunk:
        outputs = model(features_to(features, device))
    else:
        parts = []
        for start in range(0, total, chunk):
            part = features_to(features_slice(features, start, start + chunk), device)
            parts.append(checkpoint(model, part, use_reentrant=False) if torch.is_grad_enabled() else model(part))
        outputs = {name: torch.cat([part[name] for part in parts]) for name in parts[0]}
    return {name: value.to(CPU) for name, value in outputs.items()}
