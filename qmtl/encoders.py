r"""Classical encoders: features -> bounded rotation angles for the shared circuit.

A tensor input gets one MLP.  A dict of modalities gets one MLP per modality (a
*branch*), each ending in ``d = hidden[-1]`` units (``n_angles`` when ``hidden`` is
empty); the branches' outputs :math:`h_m(x) \in \mathbb{R}^d` are fused, and a linear
layer maps the fusion to ``n_angles`` values.  Two fusions (``model.encoder.fusion``):

* ``concat`` (the default): :math:`z = W\,\phi([h_1; \dots; h_M]) + b`, with
  :math:`\phi` the activation;
* ``attention``: per example, a softmax over the modalities,

  .. math:: s_m(x) = u_m^\top \phi(h_m(x)) + c_m, \qquad
            \alpha(x) = \mathrm{softmax}_m\, s_m(x), \qquad
            z = W\,\phi\Big(\textstyle\sum_m \alpha_m(x)\, h_m(x)\Big) + b,

  additive attention over the modality embeddings (Bahdanau, Cho & Bengio, ICLR 2015;
  its use for fusing modalities: Hori et al., "Attention-Based Multimodal Fusion for
  Video Description", ICCV 2017).  Each modality has its own scorer :math:`(u_m, c_m)`,
  initialised at zero, so training starts from the uniform mix :math:`\alpha_m = 1/M`;
  the weights :math:`\alpha(x)` say how much each modality counts for example ``x``
  (:meth:`AttentionFusionEncoder.modality_weights`), and their mean over a batch is what
  a run records per epoch (:class:`qmtl.protocols.ReportsAttention`).

The final ``scale * tanh`` bounds every angle to ``(-scale, scale)``, so no angle wraps
around the rotation period and gradients stay informative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from qmtl.errors import UserError
from qmtl.protocols import AttentionMaps

if TYPE_CHECKING:
    from qmtl.config import EncoderConfig

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}

Features = torch.Tensor | Mapping[str, torch.Tensor]

#: Name of the modality-weight map in :meth:`AttentionFusionEncoder.attention_maps`.
MODALITY_MAP = "modality_attention"


def mlp(in_features: int, hidden: Sequence[int], out_features: int, activation: str, dropout: float) -> nn.Sequential:
    """Linear layers of the given widths with an activation (and dropout) between them."""
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden:
        layers += [nn.Linear(width, size), _ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


class AngleEncoder(nn.Module):
    """Features (a tensor or a dict of modalities) -> ``(batch, n_angles)`` bounded angles;
    modalities are fused by concatenation."""

    def __init__(
        self,
        input_dims: int | Mapping[str, int],
        n_angles: int,
        hidden: Sequence[int],
        activation: str = "tanh",
        dropout: float = 0.0,
        scale: float = torch.pi,
    ) -> None:
        super().__init__()
        self.scale = scale
        if isinstance(input_dims, Mapping):
            self.modalities = sorted(input_dims)
            width = hidden[-1] if hidden else n_angles
            self.branches = nn.ModuleDict(
                {
                    name: mlp(input_dims[name], hidden[:-1], width, activation, dropout)
                    for name in self.modalities
                }
            )
            self.merge: nn.Module = nn.Sequential(
                _ACTIVATIONS[activation](), nn.Linear(self._fused_width(width), n_angles)
            )
        else:
            self.modalities = []
            self.branches = nn.ModuleDict({"features": mlp(input_dims, hidden, n_angles, activation, dropout)})
            self.merge = nn.Identity()

    def _fused_width(self, width: int) -> int:
        """Width of the fused embedding the merge layer reads: all branches side by side."""
        return width * len(self.modalities)

    def _fuse(self, parts: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(parts, dim=-1)

    def forward(self, features: Features) -> torch.Tensor:
        if isinstance(features, Mapping):
            hidden = self.merge(self._fuse([self.branches[name](features[name]) for name in self.modalities]))
        else:
            hidden = self.branches["features"](features)
        return self.scale * torch.tanh(hidden)


class AttentionFusionEncoder(AngleEncoder):
    """An :class:`AngleEncoder` over a dict of modalities that fuses them by per-example
    softmax attention (the module docstring gives the maths)."""

    def __init__(
        self,
        input_dims: Mapping[str, int],
        n_angles: int,
        hidden: Sequence[int],
        activation: str = "tanh",
        dropout: float = 0.0,
        scale: float = torch.pi,
    ) -> None:
        super().__init__(input_dims, n_angles, hidden, activation, dropout, scale)
        width = hidden[-1] if hidden else n_angles
        scores = {name: nn.Linear(width, 1) for name in self.modalities}
        for score in scores.values():
            # Zero scores: the fusion starts as the uniform mean of the modalities.
            nn.init.zeros_(score.weight)
            nn.init.zeros_(score.bias)
        self.scorers = nn.ModuleDict({
            name: nn.Sequential(_ACTIVATIONS[activation](), scores[name]) for name in self.modalities
        })

    def _fused_width(self, width: int) -> int:
        return width  # the weighted sum has one branch's width

    def _weights(self, parts: list[torch.Tensor]) -> torch.Tensor:
        scores = torch.cat([self.scorers[name](part) for name, part in zip(self.modalities, parts)], dim=-1)
        return torch.softmax(scores, dim=-1)

    def _fuse(self, parts: list[torch.Tensor]) -> torch.Tensor:
        weights = self._weights(parts)
        return torch.einsum("bm,mbd->bd", weights, torch.stack(parts))

    def modality_weights(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``(batch, n_modalities)`` attention weights, columns in ``self.modalities`` order;
        every row sums to 1."""
        return self._weights([self.branches[name](features[name]) for name in self.modalities])

    @torch.no_grad()
    def attention_maps(self, features: Features) -> AttentionMaps:
        """``{"modality_attention": {"encoder": {modality: mean weight}}}`` over the batch."""
        if not isinstance(features, Mapping):
            raise TypeError("attention fusion reads a dict of modalities, not one tensor")
        mean = self.modality_weights(features).mean(dim=0)
        return {MODALITY_MAP: {"encoder": {name: float(w) for name, w in zip(self.modalities, mean)}}}


def make_angle_encoder(input_dims: int | Mapping[str, int], n_angles: int, config: EncoderConfig,
                       scale: float) -> AngleEncoder:
    """The encoder ``model.encoder`` (``config``) describes, producing ``n_angles`` values
    bounded by ``scale``; attention fusion over a single feature tensor is refused."""
    if config.fusion == "concat":
        return AngleEncoder(input_dims, n_angles, config.hidden, config.activation, config.dropout, scale)
    if not isinstance(input_dims, Mapping) or len(input_dims) < 2:
        what = "one feature tensor" if not isinstance(input_dims, Mapping) else "one modality"
        raise UserError(
            f"model.encoder.fusion: attention weighs modalities against each other, but the data give {what}; "
            f"use a data set with several modalities (e.g. data.options.modalities: true) or fusion: concat"
        )
    return AttentionFusionEncoder(input_dims, n_angles, config.hidden, config.activation, config.dropout, scale)
