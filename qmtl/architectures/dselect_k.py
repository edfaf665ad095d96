"""DSelect-k gates over quantum experts.

Hazimeh, Zhao, Chowdhery, Sathiamoorthy, Chen, Mazumder, Hong, Chi, "DSelect-k:
Differentiable Selection in the Mixture of Experts with Applications to Multi-Task
Learning", NeurIPS 2021.  A shared encoder maps *x* to angles *a*; ``experts`` variational
circuits :math:`f_e` (as in :mod:`qmtl.architectures.qmoe`) run in one broadcast execution.
Task *t* mixes them with a gate that has at most ``k`` non-zero weights once trained.

**Smooth step** (width :math:`\\gamma`, option ``gamma``):

.. math:: S(z) = \\begin{cases} 0 & z \\le -\\gamma/2 \\\\
                 -\\frac{2}{\\gamma^3} z^3 + \\frac{3}{2\\gamma} z + \\frac12 & |z| < \\gamma/2 \\\\
                 1 & z \\ge \\gamma/2, \\end{cases}

continuously differentiable, and exactly 0 or 1 outside the band.

**Single-expert selector.**  With :math:`m = \\lceil \\log_2 n \\rceil` bits for *n* experts,
a vector :math:`z \\in \\mathbb{R}^m` gives expert *e* (binary digits :math:`b_l(e)`, most
significant first) the weight

.. math:: r(z)_e = \\prod_{l=1}^{m} \\big[S(z_l)\\big]^{b_l(e)} \\big[1 - S(z_l)\\big]^{1 - b_l(e)}.

For :math:`n = 2^m` these are the probabilities of *m* independent bits, so they sum to 1,
and when every :math:`S(z_l) \\in \\{0, 1\\}` (a *binary-saturated* selector) exactly one is
non-zero.  For other *n* some codes name no expert; the paper then adds a penalty keeping
weight off them, so its gate rows sum to 1 only at convergence.  Here a bit whose 1-branch
holds no expert (given the bits before it) is 0 with certainty, i.e. its factor is 1 for
the experts below it: the selector is the binary tree pruned of its empty branches, its
weights sum to 1 for every *z*, and saturated selectors are still one-hot.  For a power of
two this is the paper's selector unchanged.

**Gate.**  ``k`` selectors :math:`z_1, \\dots, z_k` and logits :math:`\\alpha \\in \\mathbb{R}^k`:

.. math:: w_t = \\sum_{i=1}^{k} \\mathrm{softmax}(\\alpha)_i\\, r(z_i), \\qquad
          y_t = h_t\\Big(\\textstyle\\sum_e w_{t,e}\\, f_e(a)[\\mathbf{P}_t]\\Big),

a convex combination of *k* selector vectors: rows sum to 1, and with saturated selectors
at most *k* entries are non-zero.  ``gate: per_example`` (the paper's per-example variant)
makes :math:`z_i = A_i a + c_i` and :math:`\\alpha = B a + d` functions of the encoder's
angles; ``gate: static`` makes them free parameters per task.  As in the reference
implementation, :math:`z` starts in :math:`U(-\\gamma/100, \\gamma/100)` (inside the band,
where gradients flow) and :math:`\\alpha` in :math:`U(-0.05, 0.05)`.

**Entropy regularisation** (option ``entropy``, weight :math:`\\lambda \\ge 0`): the paper's
penalty :math:`\\lambda \\sum_t \\sum_i H(r(z_{t,i}))` with
:math:`H(r) = -\\sum_e r_e \\log(r_e + 10^{-6})`, which drives each selector to a single
expert, through :meth:`DSelectKModel.regularization`.  For per-example gates it is the mean
over the last training batch; the trainer adds it after the task losses' backward pass, so
it is recomputed from that batch's angles, detached: its gradient reaches the gates, not
the encoder.

Shared: the encoder and the experts; task *t*: its gate and readout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal, cast

import pennylane as qml
import torch
from pydantic import Field
from torch import nn

from qmtl.ansatz import get_ansatz
from qmtl.architectures._extraction import expert_width
from qmtl.architectures.options import MAX_COUNT, ArchitectureOptions, parse_options
from qmtl.architectures.parts import build_encoder, build_readouts, observable_columns
from qmtl.architectures.stacked import StackedCircuits
from qmtl.config import RunConfig
from qmtl.encoders import AngleEncoder, Features
from qmtl.errors import UserError
from qmtl.model import MultiTaskModel, Readout
from qmtl.protocols import AttentionMaps

NAME = "dselect_k"
#: Inside the logarithm of the entropy penalty, as in the reference implementation, so a
#: selector weight of exactly 0 has a finite gradient.
ENTROPY_EPSILON = 1e-6

# A bit's factor in a selector weight: S(z), 1 - S(z), or 1 (a pruned bit, 0 for certain).
ONE, ZERO, CERTAIN = 1, 0, 2


class DSelectKOptions(ArchitectureOptions):
    """Options of ``dselect_k``: a pool of expert circuits, one DSelect-k gate per task."""

    experts: int = Field(4, ge=1, le=MAX_COUNT, description="number of expert circuits")
    k: int = Field(2, ge=1, le=MAX_COUNT, description="most experts a task's trained gate mixes (at most experts)")
    gamma: float = Field(1.0, gt=0, description="width of the smooth step's polynomial band")
    gate: Literal["per_example", "static"] = Field(
        "per_example", description="gate a function of each example's angles, or one gate per task")
    entropy: float = Field(0.0, ge=0, description="weight of the selectors' entropy penalty")
    expert_layers: int = Field(1, ge=1, le=MAX_COUNT, description="ansatz layers of each expert")
    expert_qubits: int | None = Field(
        None, ge=1, le=MAX_COUNT, description="wires of each expert (default: model.n_qubits)")


def smooth_step(z: torch.Tensor, gamma: float) -> torch.Tensor:
    """Hazimeh et al.'s cubic smooth step: 0 below ``-gamma/2``, 1 above ``gamma/2``."""
    t = z.clamp(-gamma / 2, gamma / 2)
    return -2 / gamma**3 * t**3 + 3 / (2 * gamma) * t + 0.5


def selector_codes(n_experts: int) -> torch.Tensor:
    """``(n_experts, m)`` with each bit's role (ONE, ZERO or CERTAIN) in each expert's
    weight: the binary code of the expert, where a 0 bit whose 1-branch (same higher bits)
    holds no expert becomes CERTAIN."""
    bits = math.ceil(math.log2(n_experts)) if n_experts > 1 else 0
    codes = torch.zeros(n_experts, bits, dtype=torch.long)
    for expert in range(n_experts):
        for position in range(bits):
            shift = bits - 1 - position
            if (expert >> shift) & 1:
                codes[expert, position] = ONE
            else:
                # the smallest code in the 1-branch: this expert's higher bits, then 1, then 0s
                smallest = ((expert >> (shift + 1)) << (shift + 1)) | (1 << shift)
                codes[expert, position] = ZERO if smallest < n_experts else CERTAIN
    return codes


class StaticLogits(nn.Module):
    """One learnt logit vector, the same for every example."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.vector = nn.Parameter(torch.empty(n))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, ...)`` -> ``(batch, n)``."""
        return self.vector.expand(inputs.shape[0], -1)


def logits(n_inputs: int, n: int, per_example: bool, bound: float) -> nn.Module:
    """``n`` logits per example, ``A x + c`` (``per_example``) or static, from ``U(-bound, bound)``."""
    module = nn.Linear(n_inputs, n) if per_example else StaticLogits(n)
    for parameter in module.parameters():
        nn.init.uniform_(parameter, -bound, bound)
    return module


class DSelectKGate(nn.Module):
    """``k`` single-expert selectors over ``n_experts`` and their softmax weights."""

    codes: torch.Tensor

    def __init__(self, n_inputs: int, n_experts: int, k: int, gamma: float, per_example: bool) -> None:
        super().__init__()
        self.k, self.gamma = k, gamma
        self.register_buffer("codes", selector_codes(n_experts), persistent=False)
        bits = self.codes.shape[1]
        # One expert needs no bit and one selector no weight: such logits would have no gradient.
        self.selector_logits = logits(n_inputs, k * bits, per_example, gamma / 100) if bits else None
        self.mixing_logits = logits(n_inputs, k, per_example, 0.05) if k > 1 else None

    def selectors(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, k, n_experts)``: each selector's weights (each row sums to 1)."""
        batch, (n_experts, bits) = inputs.shape[0], self.codes.shape
        if self.selector_logits is None:
            return inputs.new_ones(batch, self.k, n_experts)
        step = smooth_step(self.selector_logits(inputs).view(batch, self.k, 1, bits), self.gamma)
        factors = torch.where(self.codes == ONE, step, torch.where(self.codes == ZERO, 1 - step, torch.ones_like(step)))
        return factors.prod(dim=-1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, n_inputs)`` -> ``(batch, n_experts)`` expert weights on the simplex."""
        selectors = self.selectors(inputs)
        if self.mixing_logits is None:
            return selectors[:, 0]
        return torch.einsum("bk,bke->be", torch.softmax(self.mixing_logits(inputs), dim=-1), selectors)

    def entropy(self, inputs: torch.Tensor) -> torch.Tensor:
        """Sum over the selectors of their entropy, averaged over the batch."""
        selectors = self.selectors(inputs)
        return -(selectors * torch.log(selectors + ENTROPY_EPSILON)).sum(dim=(1, 2)).mean()


class DSelectKModel(MultiTaskModel):
    """Encoder -> experts (one execution) -> per-task DSelect-k gate mix -> per-task readout."""

    def __init__(self, encoder: AngleEncoder, experts: StackedCircuits, heads: dict[str, Readout],
                 columns: dict[str, list[int]], options: DSelectKOptions) -> None:
        super().__init__()
        self.encoder = encoder
        self.experts = experts
        self.task_names = list(heads)
        n_angles, n_experts = len(experts.wires), len(experts.weights)
        self.gates = nn.ModuleDict({
            name: DSelectKGate(n_angles, n_experts, options.k, options.gamma, options.gate == "per_example")
            for name in self.task_names
        })
        self.heads = nn.ModuleDict(heads)
        self.columns = columns
        self.entropy_weight = options.entropy
        # The angles of the last training batch, detached, for the entropy penalty.
        self._routing_angles: torch.Tensor | None = None

    def gate(self, task: str) -> DSelectKGate:
        """Task ``task``'s gate, typed as such: an ``nn.ModuleDict`` gives plain Modules."""
        return cast(DSelectKGate, self.gates[task])

    def gate_weights(self, features: Features) -> dict[str, torch.Tensor]:
        """Per task, the ``(batch, n_experts)`` mixing weights (rows sum to 1)."""
        angles = self.encoder(features)
        return {name: self.gates[name](angles) for name in self.task_names}

    def forward(self, features: Features) -> dict[str, torch.Tensor]:
        angles = self.encoder(features)
        if self.training and self.entropy_weight > 0:
            self._routing_angles = angles.detach()
        experts = self.experts(angles.expand(len(self.experts.weights), *angles.shape))
        outputs = {}
        for name in self.task_names:
            mixed = torch.einsum("be,ebw->bw", self.gates[name](angles), experts[..., self.columns[name]])
            outputs[name] = self.heads[name](mixed)
        return outputs

    def regularization(self) -> torch.Tensor:
        """``entropy`` times the selectors' entropy on the last training batch (0 before one)."""
        if self.entropy_weight == 0 or self._routing_angles is None:
            return torch.zeros(())
        angles = self._routing_angles
        return self.entropy_weight * sum((self.gate(name).entropy(angles) for name in self.task_names),
                                         angles.new_zeros(()))

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [[*self.gates[name].parameters(), *self.heads[name].parameters()] for name in self.task_names]

    def attention_maps(self, features: Features) -> AttentionMaps:
        """``expert_gates``: per task, each expert's mean gate weight over the batch."""
        with torch.no_grad():
            gates = self.gate_weights(features)
        return {"expert_gates": {name: {f"expert{e}": value for e, value in enumerate(gate.mean(dim=0).tolist())}
                                 for name, gate in gates.items()}}


def build_dselect_k(
    config: RunConfig, input_dims: int | Mapping[str, int], device: qml.devices.Device, diff_method: str
) -> DSelectKModel:
    model = config.model
    options = parse_options(NAME, DSelectKOptions, model.options)
    if options.k > options.experts:
        raise UserError(
            f"model.options.k = {options.k} for architecture '{NAME}' exceeds model.options.experts = "
            f"{options.experts}: a gate cannot select more experts than there are; lower k or add experts"
        )
    words, columns = observable_columns(config.tasks)
    n_qubits = expert_width(config, options.expert_qubits, words)
    experts = StackedCircuits(
        options.experts, n_qubits, get_ansatz(model.ansatz.name), options.expert_layers, words, device,
        diff_method, model.encoding.rotation, model.encoding.reupload,
    )
    encoder = build_encoder(model, input_dims, n_qubits)
    return DSelectKModel(encoder, experts, build_readouts(config.tasks), columns, options)
