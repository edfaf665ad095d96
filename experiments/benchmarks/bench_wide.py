"""Peak memory and time of one training step of a wide circuit, within ``training.max_state_memory``.

The model: hard sharing, an MLP encoder (64 -> 16 -> n), ``--layers`` strongly-entangling
layers on ``default.qubit`` (backprop, complex64 states, CPU), two tasks of the digits data
reading ``<Z>`` of four wires, a batch of ``--batch`` examples.  For each qubit count it runs
one training step (forward, backward, Adam) unchunked when the default budget allows it, and
chunked under ``--budget``.  Every step runs in its own process, which builds the trainer
(which measures the model's memory per example, :mod:`qmtl.memory`), notes its resident set
size, resets the kernel's record of its peak (``/proc/self/clear_refs``, Linux), takes one
step and reads the peak again (``VmHWM``); the difference is the step's peak memory.  (The
peak of ``getrusage`` cannot be reset, and building the trainer can exceed a chunked step.)

Printed per step: the chunk the plan chose, the plan's estimate of one chunk's memory, the
measured peak, the time, and the state vectors in flight beyond the saved ones,
:math:`W = (\\text{peak} - F - c\\,S) / (c\\,s)` for chunk :math:`c`, which
:data:`qmtl.memory.WORKING_STATES` must bound.

    python experiments/benchmarks/bench_wide.py [--qubits 16 20] [--batch 16] [--layers 2] [--budget 1GiB]
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from qmtl.config import validate_config
from qmtl.memory import WORKING_STATES, default_budget, size_text
from qmtl.rundir import RunDir
from qmtl.training import Trainer

KIB = 1024


def _status_bytes(field: str) -> int:
    """A memory line of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * KIB
    raise RuntimeError(f"/proc/self/status has no {field}; this benchmark needs Linux")


def _reset_peak() -> None:
    """Set the process's recorded peak resident set size (``VmHWM``) to its current size."""
    Path("/proc/self/clear_refs").write_text("5")


def config(n_qubits: int, layers: int, batch: int, budget: int | None) -> dict[str, Any]:
    words = [f"Z{wire}" for wire in range(4)]
    return {
        "data": {"name": "digits", "limit": max(4 * batch, 120)},
        "tasks": [{"name": "digit", "kind": "multiclass", "classes": 10, "observables": words},
                  {"name": "parity", "kind": "binary", "observables": words}],
        "model": {"n_qubits": n_qubits, "encoder": {"hidden": [16]}, "ansatz": {"layers": layers}},
        "training": {"batch_size": batch, "torch_device": "cpu", "max_state_memory": budget,
                     "conflict_diagnostic": False},
    }


def one_step(raw: dict[str, Any]) -> dict[str, Any]:
    """Build the trainer, take one step; the plan, the step's peak memory and its time."""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(validate_config(raw), RunDir(Path(folder) / "run"), progress=False)
        plan = trainer.memory
        batch = trainer.data.train.subset(torch.arange(raw["training"]["batch_size"]))
        # torch.utils.checkpoint imports torch._dynamo on its first call (seconds, tens of MiB, once per
        # process): imported here, so that the step's time and peak are the step's own.
        importlib.import_module("torch._dynamo")
        before = _status_bytes("VmRSS")
        _reset_peak()
        started = time.perf_counter()
        trainer._step(batch)  # the training step itself, without the epoch loop around it
        seconds = time.perf_counter() - started
        peak = _status_bytes("VmHWM") - before
    chunk = min(plan.training_chunk, len(batch))
    return {
        "chunk": chunk, "budget": plan.budget, "seconds": seconds, "peak": peak,
        "estimate": plan.fixed_bytes + chunk * plan.training_bytes_per_example,
        "working_states": (peak - plan.fixed_bytes - chunk * plan.saved_bytes_per_example) / (chunk * plan.state_bytes),
    }


def measure(raw: dict[str, Any]) -> dict[str, Any]:
    """:func:`one_step` in a fresh process, so that its peak is this step's alone."""
    done = subprocess.run([sys.executable, __file__, "--case", json.dumps(raw)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qubits", type=int, nargs="+", default=[16, 20])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--budget", default="1GiB", help="training.max_state_memory of the chunked step")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: one step, in a child process
    args = parser.parse_args()
    if args.case:
        print(json.dumps(one_step(json.loads(args.case))))
        return
    print(f"torch {torch.__version__}, 1 thread, default budget {size_text(default_budget())}, "
          f"WORKING_STATES = {WORKING_STATES}")
    print("| qubits | batch | budget | chunk | estimate | peak measured | W measured | step s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n_qubits in args.qubits:
        base = config(n_qubits, args.layers, args.batch, None)
        chunked = copy.deepcopy(base)
        chunked["training"]["max_state_memory"] = args.budget
        for raw in (base, chunked):
            result = measure(raw)
            if raw is base and result["chunk"] < args.batch:
                print(f"| {n_qubits} | {args.batch} | {size_text(result['budget'])} | (does not fit the default "
                      f"budget unchunked) | | | | |")
                continue
            print(f"| {n_qubits} | {args.batch} | {size_text(result['budget'])} | {result['chunk']} | "
                  f"{size_text(result['estimate'])} | {size_text(result['peak'])} | "
                  f"{result['working_states']:.1f} | {result['seconds']:.2f} |")


if __name__ == "__main__":
    main()
