"""Gradient aggregation (Jacobian descent) through torchjd.

Instead of weighting the losses, an aggregator :math:`\\mathcal A` maps the Jacobian
:math:`J \\in \\mathbb R^{K \\times n}` of the task losses w.r.t. the shared parameters (row
:math:`i` is :math:`\\nabla_\\theta L_i`) to one update direction :math:`\\mathcal A(J)`
(Quinton & Rey, "Jacobian Descent for Multi-Objective Optimization", 2024).  Task-specific
parameters receive the plain gradient of their own task's loss.  The aggregators themselves are
torchjd's; each registry entry cites its paper (see ``docs/strategies.md``).

qmtl has no shared *feature tensor* to hand to ``torchjd.autojac.mtl_backward``: the heads are
measurements of the shared quantum state.  The shared parameters are therefore passed as the
"features": torchjd then differentiates each task loss in its own reverse pass (no
``torch.vmap`` through the QNode, see :mod:`qmtl.strategies.jacobian`) and the
features-to-parameters Jacobian is the identity.  ``retain_graph=True`` is required because the
task losses share the whole graph; it is freed when the caller drops the losses.

Random aggregators (``pcgrad``, ``graddrop``, ``random``, ``gradvac``) draw from torch's global
generator; :class:`AggregatorStrategy` runs them on a private seeded generator state that is
saved in its ``state_dict``, so runs are reproducible and resumable.  Aggregators with running
statistics (``gradvac``, ``nash_mtl``) keep them inside torchjd objects that expose no state
API: a resumed run restarts those statistics.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torchjd.aggregation import (
    DualProj,
    IMTLG,
    MGDA,
    AlignedMTL,
    Aggregator,
    CAGrad,
    ConFIG,
    FairGrad,
    GradDrop,
    GradVac,
    Mean,
    NashMTL,
    PCGrad,
    Random,
    Sum,
    UPGrad,
)
from torchjd.autojac import jac_to_grad, mtl_backward

from qmtl.errors import UserError
from qmtl.strategies.base import MultiTaskStrategy
from qmtl.strategies.options import aggregator_option


@dataclass(frozen=True)
class AggregatorSpec:
    """A torchjd aggregator class, the defaults qmtl supplies, and the paper it implements."""

    cls: type[Aggregator]
    paper: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    needs_n_tasks: bool = False
    solver_extra: str | None = None
    """torchjd's extra (e.g. ``quadprog-projector``) that installs the solver it needs."""

    def build(self, name: str, n_tasks: int, options: Mapping[str, Any]) -> Aggregator:
        """Instantiate with ``options`` over the defaults; YAML lists become tensors."""
        valid = set(inspect.signature(self.cls).parameters) - {"n_tasks"}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise UserError(
                f"unknown option(s) {', '.join(unknown)} for aggregator '{name}'; "
                f"valid options: {', '.join(sorted(valid)) or 'none'}"
            )
        hints = typing.get_type_hints(self.cls.__init__)
        kwargs = {
            key: aggregator_option(name, key, value, hints.get(key))
            for key, value in {**self.defaults, **options}.items()
        }
        if self.needs_n_tasks:
            kwargs["n_tasks"] = n_tasks
        try:
            return self.cls(**kwargs)
        except (TypeError, ValueError) as error:
            raise UserError(f"bad options for aggregator '{name}': {error}") from error
        except ImportError as error:  # torchjd checks its optional solvers when built
            missing = str(error).split(" Install ")[0].rstrip(".")
            install = (f'pip install "torchjd[{self.solver_extra}]"' if self.solver_extra
                       else "pip install --force-reinstall torchjd")
            raise UserError(f"aggregator '{name}' cannot run: {missing}; install it with {install}") from error


AGGREGATORS: dict[str, AggregatorSpec] = {
    "upgrad": AggregatorSpec(
        UPGrad, "Quinton & Rey, Jacobian Descent for Multi-Objective Optimization, 2024",
        solver_extra="quadprog-projector",
    ),
    "mgda": AggregatorSpec(
        MGDA, "Sener & Koltun, Multi-Task Learning as Multi-Objective Optimization, NeurIPS 2018"
    ),
    "pcgrad": AggregatorSpec(
        PCGrad, "Yu et al., Gradient Surgery for Multi-Task Learning, NeurIPS 2020"
    ),
    "cagrad": AggregatorSpec(
        CAGrad,
        "Liu et al., Conflict-Averse Gradient Descent for Multi-task Learning, NeurIPS 2021",
        defaults={"c": 0.4},
        solver_extra="cagrad",
    ),
    "imtl_g": AggregatorSpec(
        IMTLG, "Liu et al., Towards Impartial Multi-task Learning, ICLR 2021"
    ),
    "aligned_mtl": AggregatorSpec(
        AlignedMTL,
        "Senushkin et al., Independent Component Alignment for Multi-Task Learning, CVPR 2023",
    ),
    "nash_mtl": AggregatorSpec(
        NashMTL,
        "Navon et al., Multi-Task Learning as a Bargaining Game, ICML 2022",
        needs_n_tasks=True,
        solver_extra="nash-mtl",
    ),
    "graddrop": AggregatorSpec(
        GradDrop,
        "Chen et al., Just Pick a Sign: Optimizing Deep Multitask Models with Gradient Sign "
        "Dropout, NeurIPS 2020",
    ),
    "gradvac": AggregatorSpec(
        GradVac,
        "Wang et al., Gradient Vaccine: Investigating and Improving Multi-task Optimization in "
        "Massively Multilingual Models, ICLR 2021",
    ),
    "dualproj": AggregatorSpec(
        DualProj,
        "Lopez-Paz & Ranzato, Gradient Episodic Memory for Continual Learning, NeurIPS 2017",
        solver_extra="quadprog-projector",
    ),
    "config": AggregatorSpec(
        ConFIG,
        "Liu et al., ConFIG: Towards Conflict-free Training of Physics Informed Neural "
        "Networks, ICLR 2025",
    ),
    "fairgrad": AggregatorSpec(
        FairGrad,
        "Ban & Ji, Fair Resource Allocation in Multi-Task Learning, ICML 2024",
        defaults={"alpha": 1.0},
        solver_extra="fairgrad",
    ),
    "mean": AggregatorSpec(Mean, "arithmetic mean of the task gradients"),
    "sum": AggregatorSpec(Sum, "sum of the task gradients (the update of 'equal' weighting)"),
    "random": AggregatorSpec(
        Random, "Lin et al., Reasonable Effectiveness of Random Weighting, TMLR 2022 (RGW)"
    ),
}


class AggregatorStrategy(MultiTaskStrategy):
    """Shared parameters get :math:`\\mathcal A(J)`; task parameters their own task's gradient."""

    def __init__(self, n_tasks: int, aggregator: Aggregator, *, seed: int = 0) -> None:
        super().__init__(n_tasks)
        self.aggregator = aggregator
        self._rng_state = torch.Generator().manual_seed(seed).get_state()

    def backward(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[Sequence[torch.nn.Parameter]],
    ) -> torch.Tensor | None:
        self._check_losses(losses)
        shared = list(shared_parameters)
        mtl_backward(
            list(losses),
            features=shared,
            tasks_params=[list(params) for params in task_parameters],
            shared_params=shared,
            retain_graph=True,
        )
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self._rng_state)
            weights = jac_to_grad(shared, self.aggregator)
            self._rng_state = torch.get_rng_state()
        # None for aggregators that do not combine the task gradients with weights (GradDrop,
        # ConFIG): there is no weight vector to report, and ones would be a false one.
        return None if weights is None else weights.detach().clone()

    def state_dict(self) -> dict[str, Any]:
        return {"rng_state": self._rng_state.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._rng_state = state["rng_state"].clone()
