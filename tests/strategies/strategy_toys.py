"""Toy problems for the strategy tests.

A tiny hybrid model (linear encoder and 2-qubit circuit shared, one scale per task) and linear
losses whose task gradients are known in closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pennylane as qml
import torch


@dataclass
class TinyHybrid:
    """Shared: encoder + circuit weights.  Task i: a scale on the expectation of its observable."""

    encoder: torch.nn.Linear
    circuit_weights: torch.nn.Parameter
    heads: list[torch.nn.Parameter]
    losses: Callable[[], torch.Tensor]

    @property
    def shared(self) -> list[torch.nn.Parameter]:
        return [*self.encoder.parameters(), self.circuit_weights]

    @property
    def per_task(self) -> list[list[torch.nn.Parameter]]:
        return [[head] for head in self.heads]

    def all_parameters(self) -> list[torch.nn.Parameter]:
        return [*self.shared, *self.heads]


def make_tiny_hybrid(diff_method: str, n_tasks: int = 3, seed: int = 0) -> TinyHybrid:
    generator = torch.Generator().manual_seed(seed)
    device = qml.device("default.qubit", wires=2)
    observables = [qml.PauliZ(0), qml.PauliZ(1), qml.PauliZ(0) @ qml.PauliZ(1)][:n_tasks]

    @qml.qnode(device, interface="torch", diff_method=diff_method)
    def circuit(x: torch.Tensor, w: torch.Tensor) -> list:
        qml.RY(x[0], wires=0)
        qml.RY(x[1], wires=1)
        qml.RX(w[0], wires=0)
        qml.RX(w[1], wires=1)
        qml.CNOT(wires=[0, 1])
        return [qml.expval(o) for o in observables]

    encoder = torch.nn.Linear(2, 2)
    with torch.no_grad():
        encoder.weight.copy_(torch.randn(2, 2, generator=generator))
        encoder.bias.copy_(torch.randn(2, generator=generator))
    circuit_weights = torch.nn.Parameter(torch.randn(2, generator=generator))
    heads = [torch.nn.Parameter(torch.randn((), generator=generator)) for _ in range(n_tasks)]
    x = torch.randn(2, generator=generator)
    targets = torch.tensor([0.5, -0.5, 0.2])[:n_tasks]

    def losses() -> torch.Tensor:
        expectations = torch.stack(list(circuit(encoder(x), circuit_weights))).float()
        predictions = torch.stack(heads) * expectations
        return (predictions - targets) ** 2 + 0.1  # positive offset: FAMO takes logs

    return TinyHybrid(encoder, circuit_weights, heads, losses)


def linear_losses(gradients: torch.Tensor) -> tuple[torch.nn.Parameter, torch.Tensor]:
    """A shared parameter theta and losses L_i = g_i . theta, so grad L_i = g_i exactly."""
    theta = torch.nn.Parameter(torch.zeros(gradients.shape[1]))
    return theta, gradients @ theta
