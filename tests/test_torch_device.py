"""``training.torch_device``: where the model, the batches and the backprop simulation run.

The CPU tests run everywhere; the CUDA ones are skipped on a machine without a CUDA GPU
(``docs/howto/gpu.md``)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from tiny_configs import TINY

from qmtl.config import validate_config
from qmtl.memory import default_budget, forward_in_chunks, machine_memory
from qmtl.run import build_run
from qmtl.torch_device import CPU, module_device, resolve_torch_device
from qmtl.training import train

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")


def _tiny(torch_device: str) -> dict:
    raw = copy.deepcopy(TINY)
    raw["data"]["limit"] = 100
    raw["training"].update(epochs=1, torch_device=torch_device)
    return raw


@pytest.mark.skipif(CUDA, reason="this machine has CUDA: auto picks it")
def test_auto_is_the_cpu_without_cuda() -> None:
    assert resolve_torch_device("auto", "default.qubit") == CPU


def test_qiskit_targets_keep_the_model_on_the_cpu() -> None:
    """The circuit runs in Qiskit: even ``cuda`` leaves the encoder and heads on the CPU."""
    for torch_device in ("auto", "cuda", "cuda:3"):
        assert resolve_torch_device(torch_device, "aer") == CPU
        assert resolve_torch_device(torch_device, "fake_manila") == CPU
    assert resolve_torch_device("auto", "lightning.qubit") == CPU  # its circuit runs outside torch


def test_cpu_places_every_parameter_and_buffer_on_the_cpu() -> None:
    with build_run(validate_config(_tiny("cpu"))) as run:
        tensors = [*run.model.parameters(), *run.model.buffers()]
        assert tensors and {tensor.device for tensor in tensors} == {CPU}


def test_the_default_budget_is_half_the_machine() -> None:
    assert default_budget(CPU) == machine_memory(CPU) // 2 > 0


@needs_cuda
def test_cuda_places_the_model_and_returns_outputs_on_the_cpu() -> None:
    with build_run(validate_config(_tiny("cuda"))) as run:
        assert module_device(run.model).type == "cuda"
        assert {tensor.device.type for tensor in [*run.model.parameters(), *run.model.buffers()]} == {"cuda"}
        features = run.require_data().val.features[:8]
        outputs = forward_in_chunks(run.model, features, chunk=3)
        assert {value.device for value in outputs.values()} == {CPU}
    assert default_budget(torch.device("cuda", 0)) == machine_memory(torch.device("cuda", 0)) // 2


@needs_cuda
def test_auto_is_the_gpu_for_default_qubit() -> None:
    assert resolve_torch_device("auto", "default.qubit").type == "cuda"


@needs_cuda
def test_a_run_trained_on_cuda_matches_the_cpu_run(tmp_path: Path) -> None:
    """Same seed, same initial model (built on the CPU, then moved): the same metrics up to float rounding."""
    results = {name: train(validate_config(_tiny(name)), tmp_path / name, progress=False)["test"]
               for name in ("cpu", "cuda")}
    for task, metrics in results["cpu"].items():
        assert results["cuda"][task]["loss"] == pytest.approx(metrics["loss"], rel=1e-3), task


@needs_cuda
def test_a_gpu_index_beyond_the_machine_is_refused() -> None:
    from qmtl.errors import UserError

    with pytest.raises(UserError, match=f"cuda:{torch.cuda.device_count()}"):
        resolve_torch_device(f"cuda:{torch.cuda.device_count()}", "default.qubit")
