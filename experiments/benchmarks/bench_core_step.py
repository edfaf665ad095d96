"""Training-step time of qmtl's hard-sharing model vs a plain PennyLane TorchLayer model.

The reference model of issue 2: an MLP encoder (64 -> 32 -> n), angle encoding, 3
strongly-entangling layers, <Z> on every wire, 3 task heads (10 / 2 / 2 classes),
batch 64, on ``default.qubit`` with backprop.  Both implementations are built and timed
in one process, repetitions interleaved so that load on the machine hits both alike; the
script prints the median step time of each and the ratio peer / qmtl (>= 1 means qmtl is
at least as fast).

    python experiments/benchmarks/bench_core_step.py [--qubits 4 8 12] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import pennylane as qml
import torch
from timing import interleaved_times

from qmtl.architectures import build_model
from qmtl.config import validate_config

CLASSES = (10, 2, 2)
BATCH, FEATURES, HIDDEN, LAYERS = 64, 64, 32, 3


def qmtl_step(n_qubits: int) -> Callable[[], None]:
    words = [f"Z{i}" for i in range(n_qubits)]
    config = validate_config({
        "tasks": [
            {"name": "a", "kind": "multiclass", "classes": 10, "observables": words},
            {"name": "b", "kind": "multiclass", "classes": 2, "observables": words},
            {"name": "c", "kind": "multiclass", "classes": 2, "observables": words},
        ],
        "model": {"n_qubits": n_qubits, "encoder": {"hidden": [HIDDEN]}, "ansatz": {"layers": LAYERS}},
    })
    device = qml.device("default.qubit", wires=n_qubits)
    model = build_model(config, FEATURES, device, "backprop")
    return _step(lambda x: list(model(x).values()), model.parameters())


def pennylane_step(n_qubits: int) -> Callable[[], None]:
    device = qml.device("default.qubit", wires=n_qubits)

    @qml.qnode(device, interface="torch", diff_method="backprop")
    def circuit(inputs, weights):
        qml.AngleEmbedding(inputs, wires=range(n_qubits), rotation="Y")
        qml.StronglyEntanglingLayers(weights, wires=range(n_qubits))
        return [qml.expval(qml.PauliZ(i)) for i in range(n_qubits)]

    layer = qml.qnn.TorchLayer(circuit, {"weights": (LAYERS, n_qubits, 3)})
    encoder = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, n_qubits))
    heads = torch.nn.ModuleList(torch.nn.Linear(n_qubits, k) for k in CLASSES)
    modules = torch.nn.ModuleList([encoder, layer, heads])

    def forward(x: torch.Tensor) -> list[torch.Tensor]:
        values = layer(torch.pi * torch.tanh(encoder(x))).float()
        return [head(values) for head in heads]

    return _step(forward, modules.parameters())


def _step(forward: Callable[[torch.Tensor], list[torch.Tensor]], parameters) -> Callable[[], None]:
    optimizer = torch.optim.Adam(list(parameters), lr=0.01)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, FEATURES, generator=generator)
    targets = [torch.randint(0, k, (BATCH,), generator=generator) for k in CLASSES]

    def step() -> None:
        optimizer.zero_grad()
        loss = sum(torch.nn.functional.cross_entropy(o, t) for o, t in zip(forward(x), targets))
        loss.backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, nargs="+", default=[4, 8, 12])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"{'qubits':>6}  {'qmtl ms':>9}  {'TorchLayer ms':>13}  {'ratio peer/qmtl':>15}")
    for n in args.qubits:
        times = interleaved_times({"qmtl": qmtl_step(n), "peer": pennylane_step(n)}, args.repeats)
        q, p = statistics.median(times["qmtl"]), statistics.median(times["peer"])
        print(f"{n:>6}  {1000 * q:>9.1f}  {1000 * p:>13.1f}  {p / q:>15.2f}", flush=True)


if __name__ == "__main__":
    main()
