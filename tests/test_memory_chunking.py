"""A step split into chunks to fit ``training.max_state_memory`` (qmtl/memory.py) gives, for every
strategy, the same losses, gradients and update as one pass over the batch (float64, rtol 1e-12);
the memory estimate grows with the batch and the qubits; a budget picks the chunk."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch
from tiny_configs import TINY

from qmtl._listing import strategy_names
from qmtl.config import validate_config
from qmtl.data import Split
from qmtl.evaluation import task_losses
from qmtl.memory import MemoryPlan, forward_in_chunks, plan_memory, saved_tensor_bytes
from qmtl.run import build_run
from qmtl.rundir import RunDir
from qmtl.training import Trainer

CHUNK = 7
BATCH = 30
# Iterative solvers (cagrad's, nash_mtl's ECOS) turn the last-bit differences of a chunked
# Jacobian (about 1e-16, from the order of summation) into differences of 1e-12 to 1e-9 in their
# result; the Jacobians they receive are equal to 1e-12 (test_every_task_gradient_...).
SOLVER_RTOL = {"cagrad": 1e-6, "nash_mtl": 1e-6}
# torchjd keeps these aggregators' constants in float32, so they run in float32 only.
FLOAT32_ONLY = {"pbi", "constant"}
# Run by default: one of each kind of strategy; the rest with -m slow.
FAST = {"equal", "gradnorm", "famo", "uncertainty", "upgrad", "pcgrad", "nash_mtl", "pbi"}
OPTIONS = {"static": {"weights": [1.0, 2.0, 3.0]}}


def _strategies() -> list[Any]:
    params = []
    for kind, names in strategy_names().items():
        for name in names:
            strategy = {kind: name, f"{kind}_options": OPTIONS.get(name, {})}
            params.append(pytest.param(strategy, id=name, marks=() if name in FAST else pytest.mark.slow))
    return params


def _trainer(raw: dict[str, Any], folder: Path, chunk: int | None, dtype: torch.dtype) -> Trainer:
    """A trainer of ``raw`` in ``dtype`` whose plan allows ``chunk`` examples per pass (``None``: the whole batch)."""
    trainer = Trainer(validate_config(raw), RunDir(folder), progress=False)
    trainer.model.to(dtype)
    if chunk is not None:
        plan = trainer.memory
        trainer.memory = dataclasses.replace(plan, budget=plan.fixed_bytes + chunk * plan.training_bytes_per_example)
        assert trainer.memory.training_chunk == chunk
    return trainer


def _close(actual: torch.Tensor, expected: torch.Tensor, rtol: float) -> bool:
    """``allclose`` at ``rtol``, entries near zero judged against the tensor's largest entry."""
    return torch.allclose(actual, expected, rtol=rtol, atol=rtol * float(expected.abs().max()))


def _batch(trainer: Trainer, dtype: torch.dtype) -> Split:
    batch = trainer.data.train.subset(torch.arange(BATCH))
    return dataclasses.replace(batch, features=batch.features.to(dtype))


@pytest.mark.parametrize("strategy", _strategies())
def test_a_chunked_step_equals_one_pass(strategy: dict[str, Any], tmp_path: Path) -> None:
    name = next(iter(strategy.values()))
    dtype, rtol = (torch.float32, 1e-5) if name in FLOAT32_ONLY else (torch.float64, SOLVER_RTOL.get(name, 1e-12))
    raw = copy.deepcopy(TINY)
    raw["training"].update(strategy)
    whole, chunked = (_trainer(raw, tmp_path / label, chunk, dtype) for label, chunk in
                      (("whole", None), ("chunked", CHUNK)))
    sizes: dict[bool, list[int]] = {True: [], False: []}  # examples per forward pass, with and without autograd
    chunked.model.register_forward_hook(lambda module, args, output: sizes[torch.is_grad_enabled()].append(len(args[0])))

    losses, chunked_losses = whole._step(_batch(whole, dtype)), chunked._step(_batch(chunked, dtype))

    assert max(sizes[True]) == CHUNK  # never more than CHUNK examples in a pass that autograd records
    assert max(sizes[False], default=0) <= chunked.memory.inference_chunk  # FAMO's second forward pass
    assert torch.allclose(chunked_losses, losses, rtol=1e-12 if dtype == torch.float64 else 1e-6, atol=0)
    for (label, parameter), other in zip(whole.model.named_parameters(), chunked.model.parameters(), strict=True):
        assert (parameter.grad is None) == (other.grad is None), label
        if parameter.grad is not None:
            assert _close(other.grad, parameter.grad, rtol), label
    # (Not the parameters after Adam: its update m / sqrt(v) turns a gradient entry that is 0 up to
    # rounding, about 1e-18 either side, into +-lr, so it cannot be compared at 1e-12.)


def test_every_task_gradient_of_a_chunked_pass_equals_one_pass(tmp_path: Path) -> None:
    """What every strategy reads, the losses and each task's gradient on every parameter, to 1e-12."""
    raw = copy.deepcopy(TINY)
    whole, chunked = (_trainer(raw, tmp_path / label, chunk, torch.float64) for label, chunk in
                      (("whole", None), ("chunked", CHUNK)))
    jacobians = []
    for trainer in (whole, chunked):
        batch = _batch(trainer, torch.float64)
        losses = task_losses(trainer._outputs(batch.features), batch.targets, trainer.tasks, batch.labelled)
        parameters = list(trainer.model.parameters())
        jacobians.append([torch.autograd.grad(loss, parameters, retain_graph=True, allow_unused=True)
                          for loss in losses])
    for task, (expected, actual) in enumerate(zip(*jacobians, strict=True)):
        for index, (gradient, other) in enumerate(zip(expected, actual, strict=True)):
            assert (gradient is None) == (other is None)
            if gradient is not None:
                assert _close(other, gradient, 1e-12), (task, index)


@pytest.mark.parametrize("modalities", [False, True], ids=["one tensor", "dict of modalities"])
def test_chunked_outputs_equal_one_pass_without_autograd(modalities: bool) -> None:
    raw = copy.deepcopy(TINY)
    raw["data"]["options"] = {"modalities": modalities}
    with build_run(validate_config(raw)) as run:
        features = run.require_data().val.subset(slice(0, BATCH)).features
        assert isinstance(features, dict) == modalities
        with torch.no_grad():
            whole, chunked = run.model(features), forward_in_chunks(run.model, features, CHUNK)
    assert whole.keys() == chunked.keys()
    for name in whole:  # float32; batched products may round differently at another batch size
        assert len(chunked[name]) == BATCH
        assert torch.allclose(chunked[name], whole[name], rtol=1e-6, atol=1e-6), name


def _plan(n_qubits: int, budget: str) -> MemoryPlan:
    raw = copy.deepcopy(TINY)
    raw["model"]["n_qubits"] = n_qubits
    raw["training"]["max_state_memory"] = budget
    config = validate_config(raw)
    with build_run(config) as run:
        return plan_memory(run.model, run.require_data().train.features, config)


def test_the_estimate_grows_with_the_state_and_the_budget_sets_the_chunk() -> None:
    small, narrower, wide = _plan(4, "64MiB"), _plan(8, "64MiB"), _plan(10, "64MiB")
    assert wide.state_bytes == 2**6 * small.state_bytes == 2**10 * 8  # complex64 amplitudes
    # Autograd keeps the state at several gates: per example, the saved bytes grow with 2**n.
    assert wide.saved_bytes_per_example >= wide.state_bytes
    assert wide.saved_bytes_per_example > 3 * narrower.saved_bytes_per_example
    assert wide.training_chunk < small.training_chunk
    assert wide.inference_chunk > wide.training_chunk
    doubled = _plan(10, "128MiB")
    assert doubled.training_chunk >= 2 * wide.training_chunk - 1
    for plan in (small, wide, doubled):  # the chunk fits the budget and one more example would not
        used = plan.fixed_bytes + plan.training_chunk * plan.training_bytes_per_example
        assert used <= plan.budget < used + plan.training_bytes_per_example


def test_saved_bytes_are_linear_in_the_batch_and_leave_the_random_stream_alone() -> None:
    with build_run(validate_config(copy.deepcopy(TINY))) as run:
        features = run.require_data().train.features
        state = torch.get_rng_state()
        one, two, three = (saved_tensor_bytes(run.model, features[:size]) for size in (1, 2, 3))
        assert torch.equal(torch.get_rng_state(), state)
    assert two - one == three - two > 0


def test_training_with_a_budget_below_the_batch_completes(tmp_path: Path) -> None:
    """End to end: a budget that forces chunks of 5 trains and evaluates like the unchunked run."""
    raw = copy.deepcopy(TINY)
    raw["data"]["limit"] = 100
    raw["training"].update(epochs=1, batch_size=20)
    config = validate_config(raw)
    with build_run(config) as run:
        plan = plan_memory(run.model, run.require_data().train.features, config)
    raw["training"]["max_state_memory"] = plan.fixed_bytes + 5 * plan.training_bytes_per_example
    chunked = Trainer(validate_config(raw), RunDir(tmp_path / "chunked"), progress=False)
    assert chunked.memory.training_chunk == 5
    whole = Trainer(config, RunDir(tmp_path / "whole"), progress=False)
    results = [trainer.run()["test"] for trainer in (whole, chunked)]
    for task in results[0]:  # float32: equal up to rounding in the order of summation
        for metric, value in results[0][task].items():
            assert results[1][task][metric] == pytest.approx(value, rel=1e-4, abs=1e-5), (task, metric)


@pytest.mark.parametrize("target", ["aer", "fake_manila"])
def test_a_qiskit_target_is_planned_without_running_the_model(target: str) -> None:
    raw = copy.deepcopy(TINY)
    raw["device"] = {"name": target}
    raw["training"]["max_state_memory"] = "1MiB"  # would chunk an in-process simulation
    with build_run(validate_config(raw)) as run:
        calls_before = run.device.primitive_calls
        plan = plan_memory(run.model, run.require_data().train.features, run.config)
        assert run.device.primitive_calls == calls_before  # no Estimator call, no QPU time
    assert not plan.in_process
    assert plan.training_chunk >= raw["training"]["batch_size"] and plan.inference_chunk >= 256
