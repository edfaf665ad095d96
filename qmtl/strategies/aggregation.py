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
statistics (``gradvac``, ``nash_mtl``, ``pcd``, ``excess_mtl``, ``cr_mogm``) keep them inside torchjd objects that expose no state
API: a resumed run restarts those statistics.

``pcd`` treats the first task as the primary objective.  torchjd's ``MoDoWeighting`` and
``SDMGradWeighting`` are not exposed: they take :math:`J_1 J_2^\top` from two *independent*
mini-batches (their convergence guarantees need it), while qmtl's step has one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import torch
from pydantic import Field
from torchjd.aggregation import (
    IMTLG,
    MGDA,
    PCD,
    Aggregator,
    AlignedMTL,
    AlignedMTLWeighting,
    CAGrad,
    ConFIG,
    Constant,
    CRMOGMWeighting,
    DualProj,
    DualProjWeighting,
    ExcessMTL,
    FairGrad,
    GradDrop,
    GradVac,
    GramianWeightedAggregator,
    IMTLGWeighting,
    Krum,
    Mean,
    MGDAWeighting,
    NashMTL,
    PCGrad,
    PCGradWeighting,
    Random,
    Sum,
    TrimmedMean,
    UPGrad,
    UPGradWeighting,
)
from torchjd.autojac import jac_to_grad, mtl_backward

from qmtl.errors import UserError
from qmtl.strategies.base import MultiTaskStrategy
from qmtl.strategies.options import NoOptions, StrategyOptions, preference_tensor, validate_options

PositiveFloat = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(ge=1)]


def _pref_vector() -> Any:
    return Field(default=None, min_length=1,
                 description="preference weights, one per task (null: torchjd's default)")


class UPGradOptions(StrategyOptions):
    config_forbidden: ClassVar[frozenset[str]] = frozenset({"projector"})
    pref_vector: list[float] | None = _pref_vector()


class MGDAOptions(StrategyOptions):
    epsilon: float = Field(default=1e-3, gt=0, description="Frank-Wolfe stopping tolerance")
    max_iters: int = Field(default=100, ge=1, description="Frank-Wolfe iterations at most")


class CAGradOptions(StrategyOptions):
    c: float = Field(default=0.4, ge=0, description="radius c of the ball around the mean gradient")
    norm_eps: float = Field(default=1e-4, ge=0, description="added to norms before dividing")


class AlignedMTLOptions(StrategyOptions):
    pref_vector: list[float] | None = _pref_vector()
    scale_mode: Literal["min", "median", "rmse"] = Field(
        default="min", description="which singular value the aligned gradients are scaled to")


class NashMTLOptions(StrategyOptions):
    max_norm: float = Field(default=1.0, ge=0, description="clip the update to this norm; 0 = off")
    update_weights_every: int = Field(default=1, ge=1, description="solve for new weights every this many steps")
    optim_niter: int = Field(default=20, ge=1, description="iterations of the bargaining solver")


class GradDropOptions(StrategyOptions):
    config_forbidden: ClassVar[frozenset[str]] = frozenset({"f"})
    leak: list[float] | None = Field(default=None, min_length=1,
                                     description="per-task leak of the dropped gradient (null: 0)")


class GradVacOptions(StrategyOptions):
    beta: float = Field(default=0.5, ge=0, le=1, description="EMA rate of the target cosine similarities")
    eps: float = Field(default=1e-8, ge=0, description="added to norms before dividing")


class PrefVectorOptions(StrategyOptions):
    config_forbidden: ClassVar[frozenset[str]] = frozenset({"projector"})
    pref_vector: list[float] | None = _pref_vector()


class FairGradOptions(StrategyOptions):
    alpha: float = Field(default=1.0, gt=0, description="α of α-fairness (1: proportional fairness)")
    max_iters: int | None = Field(default=None, ge=1, description="solver iterations at most (null: solver default)")


class PCDOptions(StrategyOptions):
    tau: float = Field(default=0.02, ge=0, le=1,
                       description="fraction of normalised progress guaranteed to each secondary task")
    beta: float = Field(default=0.999, ge=0, lt=1, description="EMA decay of the squared gradient norms")
    eps: float = Field(default=1e-8, ge=0, description="added to the EMA before its inverse square root")


class ExcessMTLOptions(StrategyOptions):
    robust_step_size: float = Field(default=1.0, gt=0, description="step η of the exponentiated weight update")
    n_warmup_steps: int = Field(default=0, ge=0, description="steps with uniform weights that set the baseline")


#: The Gramian weightings CR-MOGM can smooth (those without required options).
CR_MOGM_BASES: dict[str, Callable[[], Any]] = {
    "mgda": MGDAWeighting, "upgrad": UPGradWeighting, "imtl_g": IMTLGWeighting,
    "dualproj": DualProjWeighting, "aligned_mtl": AlignedMTLWeighting, "pcgrad": PCGradWeighting,
}


class CRMOGMOptions(StrategyOptions):
    alpha: float = Field(default=0.9, ge=0, le=1, description="EMA coefficient on the previous weights")
    base: Literal["mgda", "upgrad", "imtl_g", "dualproj", "aligned_mtl", "pcgrad"] = Field(
        default="mgda", description="the aggregator whose weights are smoothed")


class KrumOptions(StrategyOptions):
    n_byzantine: int = Field(default=0, ge=0, description="task gradients that may be outliers; needs K >= n_byzantine + 3")
    n_selected: int = Field(default=1, ge=1, description="gradients kept and averaged (Multi-Krum)")


class TrimmedMeanOptions(StrategyOptions):
    trim_number: int = Field(default=1, ge=0, description="largest and smallest values dropped per coordinate; needs K >= 2 trim_number + 1")


class ConstantOptions(StrategyOptions):
    weights: list[float] | None = Field(default=None, min_length=1,
                                        description="one weight per task (null: 1 each, the sum)")


def _with_tensors(name: str, options: StrategyOptions, n_tasks: int) -> dict[str, Any]:
    """The validated options as torchjd keyword arguments: per-task lists become tensors."""
    kwargs = options.model_dump()
    for key, value in kwargs.items():
        if isinstance(value, list):
            kwargs[key] = preference_tensor(key, f"aggregator '{name}'", value, n_tasks, 1.0)
    return {key: value for key, value in kwargs.items() if value is not None}


def _plain(cls: type[Aggregator]) -> Callable[[str, Any, int], Aggregator]:
    return lambda name, options, n_tasks: cls(**_with_tensors(name, options, n_tasks))


def _at_least(cls: type[Aggregator], rows: Callable[[Any], int], why: str) -> Callable[[str, Any, int], Aggregator]:
    def build(name: str, options: Any, n_tasks: int) -> Aggregator:
        if n_tasks < rows(options):
            raise UserError(f"aggregator '{name}' needs at least {rows(options)} tasks ({why}), got {n_tasks}; "
                            f"lower the option or choose another aggregator")
        return cls(**_with_tensors(name, options, n_tasks))
    return build


def _constant(name: str, options: ConstantOptions, n_tasks: int) -> Aggregator:
    return Constant(preference_tensor("weights", f"aggregator '{name}'", options.weights, n_tasks, 1.0))


def _cr_mogm(name: str, options: CRMOGMOptions, n_tasks: int) -> Aggregator:
    return GramianWeightedAggregator(CRMOGMWeighting(CR_MOGM_BASES[options.base](), alpha=options.alpha))


@dataclass(frozen=True)
class AggregatorSpec:
    """How to build a torchjd aggregator from validated options, and the paper it implements."""

    factory: Callable[[str, Any, int], Aggregator]
    paper: str
    options: type[StrategyOptions] = NoOptions
    solver_extra: str | None = None
    """torchjd's extra (e.g. ``quadprog-projector``) that installs the solver it needs."""

    def build(self, name: str, n_tasks: int, options: Mapping[str, Any] | None) -> Aggregator:
        """Validate ``options`` against the option model, then instantiate."""
        validated = validate_options(f"aggregator '{name}'", self.options, options)
        try:
            return self.factory(name, validated, n_tasks)
        except ValueError as error:  # torchjd's own checks
            raise UserError(f"bad options for aggregator '{name}': {error}") from error
        except ImportError as error:  # torchjd checks its optional solvers when built
            missing = str(error).split(" Install ")[0].rstrip(".")
            install = (f'pip install "torchjd[{self.solver_extra}]"' if self.solver_extra
                       else "pip install --force-reinstall torchjd")
            raise UserError(f"aggregator '{name}' cannot run: {missing}; install it with {install}") from error


AGGREGATORS: dict[str, AggregatorSpec] = {
    "upgrad": AggregatorSpec(
        _plain(UPGrad), "Quinton & Rey, Jacobian Descent for Multi-Objective Optimization, 2024, "
        "https://arxiv.org/abs/2406.16232", UPGradOptions, solver_extra="quadprog-projector",
    ),
    "mgda": AggregatorSpec(
        _plain(MGDA), "Sener & Koltun, Multi-Task Learning as Multi-Objective Optimization, NeurIPS 2018, "
        "https://arxiv.org/abs/1810.04650", MGDAOptions,
    ),
    "pcgrad": AggregatorSpec(
        _plain(PCGrad), "Yu et al., Gradient Surgery for Multi-Task Learning, NeurIPS 2020, "
        "https://arxiv.org/abs/2001.06782",
    ),
    "cagrad": AggregatorSpec(
        _plain(CAGrad), "Liu et al., Conflict-Averse Gradient Descent for Multi-task Learning, NeurIPS 2021, "
        "https://arxiv.org/abs/2110.14048", CAGradOptions, solver_extra="cagrad",
    ),
    "imtl_g": AggregatorSpec(
        _plain(IMTLG), "Liu et al., Towards Impartial Multi-task Learning, ICLR 2021, "
        "https://openreview.net/forum?id=IMPnRXEWpvr",
    ),
    "aligned_mtl": AggregatorSpec(
        _plain(AlignedMTL), "Senushkin et al., Independent Component Alignment for Multi-Task Learning, "
        "CVPR 2023, https://arxiv.org/abs/2305.19000", AlignedMTLOptions,
    ),
    "nash_mtl": AggregatorSpec(
        lambda name, options, n_tasks: NashMTL(n_tasks=n_tasks, **_with_tensors(name, options, n_tasks)),
        "Navon et al., Multi-Task Learning as a Bargaining Game, ICML 2022, https://arxiv.org/abs/2202.01017",
        NashMTLOptions, solver_extra="nash-mtl",
    ),
    "graddrop": AggregatorSpec(
        _plain(GradDrop), "Chen et al., Just Pick a Sign: Optimizing Deep Multitask Models with Gradient Sign "
        "Dropout, NeurIPS 2020, https://arxiv.org/abs/2010.06808", GradDropOptions,
    ),
    "gradvac": AggregatorSpec(
        _plain(GradVac), "Wang et al., Gradient Vaccine: Investigating and Improving Multi-task Optimization "
        "in Massively Multilingual Models, ICLR 2021, https://arxiv.org/abs/2010.05874", GradVacOptions,
    ),
    "dualproj": AggregatorSpec(
        _plain(DualProj), "Lopez-Paz & Ranzato, Gradient Episodic Memory for Continual Learning, NeurIPS 2017, "
        "https://arxiv.org/abs/1706.08840", PrefVectorOptions, solver_extra="quadprog-projector",
    ),
    "config": AggregatorSpec(
        _plain(ConFIG), "Liu et al., ConFIG: Towards Conflict-free Training of Physics Informed Neural "
        "Networks, ICLR 2025, https://arxiv.org/abs/2408.11104", PrefVectorOptions,
    ),
    "fairgrad": AggregatorSpec(
        _plain(FairGrad), "Ban & Ji, Fair Resource Allocation in Multi-Task Learning, ICML 2024, "
        "https://arxiv.org/abs/2402.15638", FairGradOptions, solver_extra="fairgrad",
    ),
    "mean": AggregatorSpec(
        _plain(Mean), "mean of the task gradients, the baseline of Quinton & Rey, Jacobian Descent for "
        "Multi-Objective Optimization, 2024, https://arxiv.org/abs/2406.16232",
    ),
    "sum": AggregatorSpec(
        _plain(Sum), "sum of the task gradients (the update of 'equal' weighting), the baseline of Quinton & "
        "Rey, 2024, https://arxiv.org/abs/2406.16232",
    ),
    "random": AggregatorSpec(
        _plain(Random), "Lin et al., Reasonable Effectiveness of Random Weighting, TMLR 2022 (RGW), "
        "https://arxiv.org/abs/2111.10603",
    ),
    "pcd": AggregatorSpec(
        _plain(PCD), "Varam et al., Not All Objectives Are Born Equal: Priority-Constrained Descent for "
        "Hierarchical Multi-Objective Optimization, TMLR 2026, https://openreview.net/forum?id=HT01yGHLEt",
        PCDOptions,
    ),
    "excess_mtl": AggregatorSpec(
        _plain(ExcessMTL), "He et al., Robust Multi-Task Learning with Excess Risks, ICML 2024, "
        "https://proceedings.mlr.press/v235/he24n.html", ExcessMTLOptions,
    ),
    "cr_mogm": AggregatorSpec(
        _cr_mogm, "Zhou et al., On the Convergence of Stochastic Multi-Objective Gradient Manipulation and "
        "Beyond, NeurIPS 2022, https://openreview.net/forum?id=ScwfQ7hdwyP", CRMOGMOptions,
        solver_extra="quadprog-projector",
    ),
    "krum": AggregatorSpec(
        _at_least(Krum, lambda o: o.n_byzantine + 3, "n_byzantine + 3"),
        "Blanchard et al., Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent, "
        "NeurIPS 2017, https://arxiv.org/abs/1703.02757", KrumOptions,
    ),
    "trimmed_mean": AggregatorSpec(
        _at_least(TrimmedMean, lambda o: 2 * o.trim_number + 1, "2 trim_number + 1"),
        "Yin et al., Byzantine-Robust Distributed Learning: Towards Optimal Statistical Rates, ICML 2018, "
        "https://arxiv.org/abs/1803.01498", TrimmedMeanOptions,
    ),
    "constant": AggregatorSpec(
        _constant, "fixed weights on the task gradients (linear scalarisation of the Jacobian), as torchjd's "
        "Constant; Quinton & Rey, 2024, https://arxiv.org/abs/2406.16232", ConstantOptions,
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
