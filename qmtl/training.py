"""Joint training of a multi-task model, with evaluation, early stopping and resume.

One step: forward a mini-batch, compute each task's loss (scaled by the task's static
``weight``), hand the loss vector to the multi-task strategy (loss weighting or
gradient aggregation, :mod:`qmtl.strategies`), which fills the gradients, then Adam.
Every epoch ends with validation, a line in ``metrics.jsonl`` and an atomic checkpoint;
the model with the best mean validation loss is kept and evaluated on the test split.

Determinism: the seed fixes the split, the initialisation (torch's RNG is seeded before
the model is built) and the batch order (a generator seeded by ``(seed, epoch)``), so a
step is identified by (epoch, position) and a resumed run replays the same batches.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from qmtl import __version__
from qmtl.checkpoint import CorruptCheckpoint, atomic_write_json, load_checkpoint, model_fingerprint, save_checkpoint
from qmtl.config import RunConfig, dump_config, load_config
from qmtl.data import MultiTaskData, Split
from qmtl.data.partial_labels import balanced_batches, has_missing_labels
from qmtl.data.synthetic_correlated import NAME as SYNTHETIC_CORRELATED
from qmtl.data.synthetic_correlated import splits_label_correlation
from qmtl.encoders import Features
from qmtl.errors import RunStopped, UserError
from qmtl.evaluation import EVAL_BATCH, evaluate, task_losses
from qmtl.fingerprint import model_defining_config
from qmtl.memory import MemoryPlan, forward_in_chunks, plan_memory
from qmtl.model import MultiTaskModel
from qmtl.protocols import AttentionMaps, MeteredDevice, ReportsAttention
from qmtl.reporting import format_epoch
from qmtl.rng import rng_state, set_rng_state
from qmtl.run import build_run
from qmtl.rundir import RunDir
from qmtl.runlock import run_lock
from qmtl.secrets import redact
from qmtl.strategies import MultiTaskStrategy, build_strategy
from qmtl.strategies.conflict import task_gradient_cosines
from qmtl.torch_device import features_to, module_device

#: Regression targets beyond this overflow float32 when squared (sqrt of float32's max is 1.8e19).
REGRESSION_TARGET_OVERFLOW = 1e18


class TrainingDiverged(UserError):
    """A NaN or infinite loss, gradient or parameter: the run stops and is marked failed.

    ``status_fields`` (epoch and step where it happened) go into ``status.json``.
    """

    def __init__(self, message: str, epoch: int, step: int) -> None:
        super().__init__(message)
        self.status_fields = {"epoch": epoch, "step": step}


@dataclass
class TrainingState:
    """Where a run stands: everything besides model/optimizer/strategy needed to resume."""

    epoch: int = 0  # epochs completed
    step_in_epoch: int = 0  # batches of the current epoch already taken
    global_step: int = 0
    best_val_loss: float = float("inf")
    best_epoch: int = 0
    epochs_without_improvement: int = 0
    elapsed: float = 0.0


def batch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=generator)


class Trainer:
    """Trains one config into one run directory; ``run()`` returns ``final.json``'s content."""

    def __init__(self, config: RunConfig, run_dir: RunDir, progress: bool = True,
                 on_step: Callable[[int], None] | None = None, force: bool = False) -> None:
        self.config = config
        self.force = force
        self.run_dir = run_dir
        self.progress = progress
        self.on_step = on_step
        self.tasks = list(config.tasks)
        # The run owns the device: closed when the rest of this set-up fails, else by run().
        self.built = build_run(config)
        try:
            self._set_up()
        except BaseException:
            self.built.close()
            raise

    def _set_up(self) -> None:
        """Strategy, optimiser and state over the built run's model."""
        config = self.config
        self.data: MultiTaskData = self.built.require_data()
        # Missing labels: batches are dealt by label pattern, each holding every task's data.
        self.balanced_batches = has_missing_labels(self.data.train.labelled)
        self.device = self.built.device
        self.device_name = config.device.name
        self.model: MultiTaskModel = self.built.model
        # How many examples one pass may hold within training.max_state_memory (a bigger batch runs in chunks).
        self.memory: MemoryPlan = plan_memory(self.model, self.data.train.features, config)
        self._evaluation_batch = min(EVAL_BATCH, self.memory.inference_chunk)
        training = config.training
        self.strategy: MultiTaskStrategy = build_strategy(
            training.weighting, training.aggregator, len(self.tasks),
            training.aggregator_options if training.aggregator else training.weighting_options, config.seed,
        )
        if training.aggregator is not None and not self.model.shared_parameters():
            raise UserError(
                f"aggregator '{training.aggregator}' combines task gradients on shared parameters, but "
                f"architecture '{config.model.architecture}' shares none; use a weighting instead"
            )
        params = list(self.model.parameters()) + list(self.strategy.parameters())
        self.optimizer = torch.optim.Adam(params, lr=config.training.lr, weight_decay=config.training.weight_decay)
        self.state = TrainingState()
        self.best_model_state = copy.deepcopy(self.model.state_dict())
        self.model_config = model_defining_config(config)
        self.logger: logging.Logger  # set by run(), which opens the run directory
        self.resumed = False

    # -- checkpoints ---------------------------------------------------------------------
    def _checkpoint_state(self) -> dict[str, Any]:
        return {
            "fingerprint": model_fingerprint(self.model_config),
            "model_config": self.model_config,
            "split": self.data.split,
            "qmtl_version": __version__,
            "model": self.model.state_dict(),
            "best_model": self.best_model_state,
            "optimizer": self.optimizer.state_dict(),
            "strategy": self.strategy.state_dict(),
            "training": vars(self.state).copy(),
            "rng": rng_state(),
            # QPU time already paid for, so a budget holds across resumes; the call count,
            # so a resumed run draws the same shot noise as an uninterrupted one.
            "qpu_seconds": float(self.device.qpu_seconds) if isinstance(self.device, MeteredDevice) else 0.0,
            "primitive_calls": int(self.device.primitive_calls) if isinstance(self.device, MeteredDevice) else 0,
        }

    def save(self) -> None:
        save_checkpoint(self.run_dir.last_checkpoint, self._checkpoint_state(), self.run_dir.previous_checkpoint)

    def restore(self) -> None:
        last, previous = self.run_dir.last_checkpoint, self.run_dir.previous_checkpoint
        if not last.exists() and previous.exists():
            last = previous
        try:
            state = load_checkpoint(last, self.model_config, self.data.split)
        except CorruptCheckpoint:
            if last == previous or not previous.exists():
                raise
            load_checkpoint(previous, self.model_config, self.data.split)  # raises if the fallback is bad too
            raise UserError(
                f"checkpoint '{last}' is truncated or corrupted and was refused; the previous good one is "
                f"kept: delete '{last}' and resume again to continue from '{previous.name}'"
            ) from None
        self.model.load_state_dict(state["model"])
        self.best_model_state = state["best_model"]
        self.optimizer.load_state_dict(state["optimizer"])
        self.strategy.load_state_dict(state["strategy"])
        self.state = TrainingState(**state["training"])
        set_rng_state(state["rng"])
        if isinstance(self.device, MeteredDevice):
            self.device.qpu_seconds = state.get("qpu_seconds", 0.0)
            self.device.primitive_calls = state.get("primitive_calls", 0)
        self.run_dir.truncate_metrics(self.state.epoch)

    # -- the loop ------------------------------------------------------------------------
    def _step(self, batch: Split) -> torch.Tensor:
        """One optimiser step; a NaN or infinite loss, gradient or parameter stops the run.

        Each is checked before it can spread: the loss before the backward pass, the
        gradients before the update and the parameters after it, so the last checkpoint
        never holds a diverged model.
        """
        self.optimizer.zero_grad(set_to_none=True)
        losses = task_losses(self._outputs(batch.features), batch.targets, self.tasks, batch.labelled)
        if not bool(torch.isfinite(losses).all()):
            bad = ", ".join(t.name for t, loss in zip(self.tasks, losses) if not torch.isfinite(loss))
            raise self._diverged(f"the loss of task(s) {bad} is NaN or infinite", self._loss_cause(batch))
        # The task weights the strategy applied (None for unweighted methods), averaged per epoch.
        self._step_weights = self.strategy.backward(losses, self.model.shared_parameters(), self.model.task_parameters())
        penalty = self.model.regularization()
        if penalty.requires_grad:
            penalty.backward()  # e.g. soft sharing's pull between task circuits; adds to .grad
        gradients = [p.grad for p in self._trained_parameters() if p.grad is not None]
        if gradients and not bool(torch.stack([g.isfinite().all() for g in gradients]).all()):
            raise self._diverged("the gradients are NaN or infinite (exploding gradients)",
                                 f"a learning rate too high for this data (training.lr is {self.config.training.lr:g}) "
                                 f"or unscaled regression targets (data.options.standardise_targets: true)")
        self.optimizer.step()
        if not bool(torch.stack([p.isfinite().all() for p in self._trained_parameters()]).all()):
            lr = self.config.training.lr
            cause = (f"training.lr is {lr}: use a finite learning rate such as 0.02" if not math.isfinite(lr)
                     else f"the learning rate is too high (training.lr is {lr:g}): lower it")
            raise self._diverged("the update made parameters NaN or infinite", cause)
        if self.strategy.wants_losses_after_step:
            # FAMO's update compares the same batch's losses before and after the step:
            # one more forward pass, no backward.
            with torch.no_grad():
                self.strategy.after_step(task_losses(self._outputs(batch.features), batch.targets, self.tasks,
                                                     batch.labelled))
        return losses.detach()

    def _outputs(self, features: Features) -> dict[str, torch.Tensor]:
        """The model's outputs for ``features``, in chunks that fit ``training.max_state_memory``
        (the same losses and gradients as one pass, :mod:`qmtl.memory`), on the CPU."""
        return forward_in_chunks(self.model, features, self.memory.chunk)

    def _trained_parameters(self) -> list[torch.Tensor]:
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    def _loss_cause(self, batch: Split) -> str:
        """Why a loss is non-finite while the parameters are finite: huge targets, or an overflow."""
        for task in self.tasks:
            if task.kind == "regression":
                largest = float(batch.targets[task.name].abs().max())
                if largest > REGRESSION_TARGET_OVERFLOW:
                    return (f"task '{task.name}' has targets up to {largest:.3g}, whose squared error overflows: "
                            f"set data.options.standardise_targets: true or rescale them")
        return (f"the model's outputs overflowed; lower the learning rate (training.lr is "
                f"{self.config.training.lr:g}) or rescale the features")

    def _diverged(self, what: str, cause: str, step: int | None = None) -> TrainingDiverged:
        epoch = self.state.epoch + 1
        step = self.state.global_step + 1 if step is None else step
        return TrainingDiverged(
            f"training diverged at epoch {epoch}, step {step}: {what}; likely cause: {cause}. "
            f"The run in '{self.run_dir.path}' is marked failed; train again with the fix",
            epoch, step,
        )

    def _conflict(self) -> list[list[float]] | None:
        if not self.config.training.conflict_diagnostic or len(self.tasks) < 2 or not self.model.shared_parameters():
            return None  # nothing shared, nothing to conflict over
        if not self.balanced_batches:
            batch = self.data.train.subset(torch.arange(min(len(self.data.train), 128)))
        else:  # about 128 rows holding every label pattern in proportion, and every task
            batch = self.data.train.subset(balanced_batches(self.data.train.labelled, 128, self.config.seed, 0)[0])
        losses = task_losses(self._outputs(batch.features), batch.targets, self.tasks, batch.labelled)
        cosines = task_gradient_cosines(losses, self.model.shared_parameters())
        self.optimizer.zero_grad(set_to_none=True)
        return cosines.tolist()

    def _attention(self) -> AttentionMaps | None:
        """The learned attention weights of every module that has them (:class:`ReportsAttention`),
        averaged over up to 256 validation examples (fewer where one pass of 256 would not fit
        ``training.max_state_memory``) in eval mode; ``None`` when no module has any."""
        reporters = [module for module in self.model.modules() if isinstance(module, ReportsAttention)]
        if not reporters:
            return None
        batch = self.data.val.subset(torch.arange(min(len(self.data.val), 256, self.memory.inference_chunk)))
        features = features_to(batch.features, module_device(self.model))
        was_training = self.model.training
        self.model.eval()
        maps: AttentionMaps = {}
        for reporter in reporters:
            maps.update(reporter.attention_maps(features))
        self.model.train(was_training)
        return maps

    def _epoch(self, epoch: int) -> dict[str, Any]:
        cfg = self.config.training
        if not self.balanced_batches:
            order = batch_order(len(self.data.train), self.config.seed, epoch)
            batches = [order[i:i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
        else:  # missing labels: every batch holds its share of each label pattern and every task
            batches = balanced_batches(self.data.train.labelled, cfg.batch_size, self.config.seed, epoch)
        start = self.state.step_in_epoch
        # Per task: the sum of its batch losses times its labelled rows, and those rows.
        sums, seen = torch.zeros(len(self.tasks), dtype=torch.float64), torch.zeros(len(self.tasks), dtype=torch.float64)
        weight_sums, weighted_steps = torch.zeros(len(self.tasks), dtype=torch.float64), 0
        bar = tqdm(batches[start:], desc=f"epoch {epoch}/{cfg.epochs}", leave=False, disable=not self.progress,
                   dynamic_ncols=True, mininterval=0.5)
        for index in bar:
            batch = self.data.train.subset(index)
            losses = self._step(batch)
            labelled_rows = torch.stack([batch.labelled[t.name].sum() for t in self.tasks]).double()
            sums += losses.double() * labelled_rows
            seen += labelled_rows
            if self._step_weights is not None:
                weight_sums += self._step_weights.double()
                weighted_steps += 1
            self.state.step_in_epoch += 1
            self.state.global_step += 1
            bar.set_postfix({t.name: f"{float(loss):.3f}" for t, loss in zip(self.tasks, losses)})
            if cfg.checkpoint_every and self.state.global_step % cfg.checkpoint_every == 0:
                self.save()
            if self.on_step is not None:
                self.on_step(self.state.global_step)
        bar.close()
        # Batches replayed from a mid-epoch resume are not in ``sums``; average what was seen.
        mean_losses = (sums / seen.clamp(min=1)).float()
        self.strategy.end_epoch(mean_losses)
        self._epoch_weights = ({t.name: float(w) for t, w in zip(self.tasks, weight_sums / weighted_steps)}
                               if weighted_steps else None)
        return {t.name: float(loss) for t, loss in zip(self.tasks, mean_losses)}

    def run(self, resume: bool = False) -> dict[str, Any]:
        """Train to the end (or early stop), as the run directory's only writer.

        The status records how a run that did not finish ended: ``failed`` (an error),
        ``interrupted`` (Ctrl-C) or ``stopped`` (a deliberate stop such as a spent QPU
        budget, with its reason); ``qmtl train --resume`` continues any of them.
        """
        path = self.run_dir.path
        with self.built:  # ends a Runtime Session/Batch however this ends, instead of leaving it to time out
            if not resume:
                self.run_dir.check_new(self.force)  # refused before the lock adds anything to the directory
            command = f"qmtl train --resume {path}" if resume else f"qmtl train --out {path}"
            with run_lock(path, command, create=not resume):
                return self._run_as_writer(resume)

    def _run_as_writer(self, resume: bool) -> dict[str, Any]:
        self.resumed = resume
        if resume:
            if self.run_dir.is_complete():  # checked under the lock: nothing to continue
                raise UserError(f"the run in '{self.run_dir.path}' is already complete; evaluate it with "
                                f"'qmtl eval {self.run_dir.path}'")
            self.restore()
            self.run_dir.set_status("running", resumed_at_epoch=self.state.epoch)
        else:
            self.run_dir.create(dump_config(self.config), force=self.force)
            self.save()
        self.logger = self.run_dir.logger()
        if self.progress:
            tqdm.write(f"run directory: {self.run_dir.path}")
        try:
            return self._train()
        except KeyboardInterrupt:
            self.run_dir.set_status("interrupted", epoch=self.state.epoch)
            raise
        except RunStopped as stop:
            self.run_dir.set_status("stopped", reason=str(stop), epoch=self.state.epoch)
            raise RunStopped(f"{stop}, then continue with 'qmtl train --resume {self.run_dir.path}' "
                             f"(the last checkpoint is kept)") from None
        except BaseException as error:
            self.run_dir.set_status("failed", error=redact(f"{type(error).__name__}: {error}"),
                                    **(error.status_fields if isinstance(error, TrainingDiverged) else {}))
            raise

    def _train(self) -> dict[str, Any]:
        cfg = self.config.training
        self.logger.info("%s run: seed %d, %d train / %d val / %d test examples (split indices sha256 %s), device %s",
                         "resumed" if self.resumed else "new", self.config.seed, len(self.data.train),
                         len(self.data.val), len(self.data.test), self.data.split["indices_sha256"], self.device_name)
        started = time.perf_counter() - self.state.elapsed
        while self.state.epoch < cfg.epochs:
            if cfg.patience is not None and self.state.epochs_without_improvement >= cfg.patience:
                self.logger.info("early stop after epoch %d (best epoch %d)", self.state.epoch, self.state.best_epoch)
                break
            epoch = self.state.epoch + 1
            train_losses = self._epoch(epoch)
            validation = evaluate(self.model, self.data.val, self.tasks, self._evaluation_batch)
            val_loss = float(np.mean([validation[t.name]["loss"] for t in self.tasks]))
            if not math.isfinite(val_loss):
                bad = ", ".join(t.name for t in self.tasks if not math.isfinite(validation[t.name]["loss"]))
                raise self._diverged(f"the validation loss of task(s) {bad} is NaN or infinite",
                                     self._loss_cause(self.data.val), step=self.state.global_step)
            improved = val_loss < self.state.best_val_loss
            if improved:
                self.state.best_val_loss, self.state.best_epoch = val_loss, epoch
                self.state.epochs_without_improvement = 0
                self.best_model_state = copy.deepcopy(self.model.state_dict())
                save_checkpoint(self.run_dir.best_checkpoint, {
                    "fingerprint": model_fingerprint(self.model_config), "model_config": self.model_config,
                    "split": self.data.split, "model": self.best_model_state, "epoch": epoch,
                })
            else:
                self.state.epochs_without_improvement += 1
            record = {
                "epoch": epoch, "train_loss": train_losses, "val": validation, "val_loss": val_loss,
                "conflict": self._conflict(), "best": improved, "weights": self._epoch_weights,
                "attention": self._attention(),
                "time_s": round(time.perf_counter() - started, 3),
            }
            self.state.epoch, self.state.step_in_epoch = epoch, 0
            self.state.elapsed = time.perf_counter() - started
            self.run_dir.append_metrics(record)
            self.save()
            self.logger.info("epoch %d: val loss %.4f %s", epoch, val_loss,
                             " ".join(f"{t.name}={validation[t.name].get(t.primary_metric, 0):.4f}" for t in self.tasks))
            if self.progress:
                tqdm.write(format_epoch(record, self.tasks))
        return self.finish(time.perf_counter() - started)

    def finish(self, wall_time: float) -> dict[str, Any]:
        self.model.load_state_dict(self.best_model_state)
        final: dict[str, Any] = {
            "test": evaluate(self.model, self.data.test, self.tasks, self._evaluation_batch),
            "val": evaluate(self.model, self.data.val, self.tasks, self._evaluation_batch),
            "parameters": self.model.parameter_counts(),
            "best_epoch": self.state.best_epoch,
            "epochs_run": self.state.epoch,
            "steps": self.state.global_step,
            "wall_time_s": round(wall_time, 3),
            "seed": self.config.seed,
            "split": self.data.split,  # which examples were trained, validated and tested on
            "device": self.device_name,
            "qmtl_version": __version__,
        }
        if self.config.data.name == SYNTHETIC_CORRELATED:
            # The tasks' relatedness as measured in this run's rows: the configured weight
            # cosine is not the labels' correlation (see qmtl/data/synthetic_correlated.py).
            final["label_correlation"] = splits_label_correlation([self.data.train, self.data.val, self.data.test])
        atomic_write_json(self.run_dir.final, final)
        self.run_dir.set_status("complete")
        self.logger.info("complete: %s", {t: m for t, m in final["test"].items()})
        return final


def train(config: RunConfig, run_dir: RunDir | str | Path, progress: bool = True, force: bool = False) -> dict[str, Any]:
    """Train ``config`` into a new run directory and return ``final.json``'s content
    (``force`` overwrites a run already there)."""
    return Trainer(config, RunDir(run_dir) if not isinstance(run_dir, RunDir) else run_dir, progress,
                   force=force).run(resume=False)


def resume(run_dir: RunDir | str | Path, config: RunConfig | None = None, progress: bool = True) -> dict[str, Any]:
    """Continue the run in ``run_dir`` from its last checkpoint (under its own ``config.yaml``
    unless ``config`` is given); returns ``final.json``'s content."""
    run_dir = RunDir(run_dir) if not isinstance(run_dir, RunDir) else run_dir
    return Trainer(config if config is not None else load_config(run_dir.config), run_dir, progress).run(resume=True)
