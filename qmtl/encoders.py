"""Classical encoders: features -> bounded rotation angles for the shared circuit.

A tensor input gets one MLP.  A dict of modalities gets one MLP per modality; their
outputs are concatenated and mapped by a linear layer to ``n_qubits`` values.  The final
``scale * tanh`` bounds every angle to ``(-scale, scale)``, so no angle wraps around the
rotation period and gradients stay informative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}

Features = torch.Tensor | Mapping[str, torch.Tensor]


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
    """Features (a tensor or a dict of modalities) -> ``(batch, n_angles)`` bounded angles."""

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
                _ACTIVATIONS[activation](), nn.Linear(width * len(self.modalities), n_angles)
            )
        else:
            self.modalities = []
            self.branches = nn.ModuleDict({"features": mlp(input_dims, hidden, n_angles, activation, dropout)})
            self.merge = nn.Identity()

    def forward(self, features: Features) -> torch.Tensor:
        if isinstance(features, Mapping):
            parts = [self.branches[name](features[name]) for name in self.modalities]
            hidden = self.merge(torch.cat(parts, dim=-1))
        else:
            hidden = self.branches["features"](features)
        return self.scale * torch.tanh(hidden)
