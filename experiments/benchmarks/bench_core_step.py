"""Training-step time of qmtl's hard-sharing model vs PennyLane TorchLayer vs the ceiling.

The reference model of issue 2: an MLP encoder (64 -> 32 -> n), angle encoding, 3
strongly-entangling layers, <Z> on every wire, 3 task heads (10 / 2 / 2 classes),
batch 64, on ``default.qubit`` with backprop.  Three implementations of one training step
(forward, backward, Adam) are built and timed in one process, repetitions interleaved so
that load on the machine hits all alike: qmtl's ``hard_sharing`` model, the same model with
a plain ``qml.qnn.TorchLayer``, and the ceiling, a hand-written torch statevector of the
same circuit (``statevector_ceiling.py``, no PennyLane).  The script prints the median step
times and, per pair, the median of the per-round ratios with its 95% interval
(``timing.ratio_interval``): TorchLayer / qmtl (>= 1: qmtl is at least as fast) and
qmtl / ceiling (<= 1: qmtl is at least as fast as the hand-written statevector).

    python experiments/benchmarks/bench_core_step.py [--qubits 4 8 12] [--repeats 9] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import pennylane as qml
import torch
from statevector_ceiling import StatevectorCeiling
from timing import interleaved_times, ratio_interval

from qmtl.architectures import build_model
from qmtl.config import validate_config
from qmtl.model import MultiTaskModel

CLASSES = (10, 2, 2)
BATCH, FEATURES, HIDDEN, LAYERS = 64, 64, 32, 3


def qmtl_model(n_qubits: int) -> MultiTaskModel:
    """qmtl's ``hard_sharing`` reference model on ``default.qubit`` with backprop."""
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
    return build_model(config, FEATURES, device, "backprop")


def qmtl_step(n_qubits: int) -> Callable[[], None]:
    model = qmtl_model(n_qubits)
    return _step(lambda x: list(model(x).values()), model.parameters())


def ceiling_step(n_qubits: int) -> Callable[[], None]:
    model = StatevectorCeiling(FEATURES, HIDDEN, n_qubits, LAYERS, CLASSES)
    return _step(model, model.parameters())


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
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"batch {BATCH}, {LAYERS} layers, torch {torch.__version__} with {args.threads} thread(s), "
          f"PennyLane {qml.version()}, {args.repeats} interleaved repeats; ratios: median [95% interval]")
    print(f"{'qubits':>6}  {'qmtl ms':>8}  {'TorchLayer ms':>13}  {'ceiling ms':>10}  "
          f"{'TorchLayer/qmtl':>21}  {'qmtl/ceiling':>21}")
    for n in args.qubits:
        times = interleaved_times(
            {"qmtl": qmtl_step(n), "peer": pennylane_step(n), "ceiling": ceiling_step(n)}, args.repeats
        )
        medians = {name: 1000 * statistics.median(values) for name, values in times.items()}
        peer = "{:.2f} [{:.2f}, {:.2f}]".format(*ratio_interval(times["peer"], times["qmtl"]))
        ceiling = "{:.2f} [{:.2f}, {:.2f}]".format(*ratio_interval(times["qmtl"], times["ceiling"]))
        print(f"{n:>6}  {medians['qmtl']:>8.1f}  {medians['peer']:>13.1f}  {medians['ceiling']:>10.1f}  "
              f"{peer:>21}  {ceiling:>21}", flush=True)


if __name__ == "__main__":
    main()
