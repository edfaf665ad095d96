"""Training-step time of the ansatz-heads model vs naive per-task PennyLane QNodes.

The setting of issue 5: an MLP encoder (64 -> 32 -> 8), 8 qubits, 4 shared
strongly-entangling layers, then per task one hardware-efficient head layer and <Z> on
every wire into a binary head, batch 64, ``default.qubit`` with backprop, for 1/2/4/8
tasks.  qmtl evaluates the shared prefix once and every task's block in one broadcast
execution; the naive peer runs one full QNode (prefix + head) per task.  Both are built
and timed in one process with repetitions interleaved, so load on the machine hits both
alike.  Prints the median and the minimum step time (forward + backward + Adam) of each;
the ratios use the minimum, which load on a shared machine can only raise.  The target is
qmtl at 8 tasks <= 2.5 x qmtl at 1 task.

    python experiments/benchmarks/bench_ansatz_heads.py [--tasks 1 2 4 8] [--repeats 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import pennylane as qml
import torch
from timing import interleaved_times

from qmtl.ansatz import ANSATZE
from qmtl.architectures import build_model
from qmtl.config import validate_config

QUBITS, SHARED_LAYERS, HEAD_LAYERS, BATCH, FEATURES, HIDDEN = 8, 4, 1, 64, 64, 32
WORDS = [f"Z{i}" for i in range(QUBITS)]


def qmtl_step(n_tasks: int) -> Callable[[], None]:
    config = validate_config({
        "tasks": [{"name": f"t{t}", "kind": "binary", "observables": WORDS} for t in range(n_tasks)],
        "model": {
            "n_qubits": QUBITS, "architecture": "ansatz_heads", "encoder": {"hidden": [HIDDEN]},
            "ansatz": {"name": "strongly_entangling", "layers": SHARED_LAYERS},
            "options": {"head_layers": HEAD_LAYERS, "head_ansatz": "hardware_efficient"},
        },
    })
    model = build_model(config, FEATURES, qml.device("default.qubit", wires=QUBITS), "backprop")
    return _step(lambda x: list(model(x).values()), model.parameters(), n_tasks)


def naive_step(n_tasks: int) -> Callable[[], None]:
    device = qml.device("default.qubit", wires=QUBITS)
    wires = list(range(QUBITS))
    shared, head = ANSATZE["strongly_entangling"], ANSATZE["hardware_efficient"]

    @qml.qnode(device, interface="torch", diff_method="backprop")
    def circuit(angles, weights, head_weights):
        qml.AngleEmbedding(angles, wires=wires, rotation="Y")
        qml.StronglyEntanglingLayers(weights, wires=wires)
        for layer in range(HEAD_LAYERS):
            head.apply_layer(head_weights[layer], wires, SHARED_LAYERS + layer)
        return [qml.expval(qml.PauliZ(w)) for w in wires]

    encoder = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, QUBITS)
    )
    weights = torch.nn.Parameter(2 * torch.pi * torch.rand(shared.shape(SHARED_LAYERS, QUBITS)))
    head_weights = torch.nn.ParameterList(
        torch.nn.Parameter(2 * torch.pi * torch.rand(head.shape(HEAD_LAYERS, QUBITS))) for _ in range(n_tasks)
    )
    readouts = torch.nn.ModuleList(torch.nn.Linear(QUBITS, 1) for _ in range(n_tasks))
    modules = torch.nn.ModuleList([encoder, readouts])

    def forward(x: torch.Tensor) -> list[torch.Tensor]:
        angles = torch.pi * torch.tanh(encoder(x))
        return [
            readout(torch.stack(circuit(angles, weights, task_weights), dim=-1).float())
            for task_weights, readout in zip(head_weights, readouts)
        ]

    return _step(forward, [*modules.parameters(), weights, *head_weights], n_tasks)


def _step(
    forward: Callable[[torch.Tensor], list[torch.Tensor]], parameters, n_tasks: int
) -> Callable[[], None]:
    optimizer = torch.optim.Adam(list(parameters), lr=0.01)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, FEATURES, generator=generator)
    targets = [torch.randint(0, 2, (BATCH, 1), generator=generator).float() for _ in range(n_tasks)]

    def step() -> None:
        optimizer.zero_grad()
        outputs = forward(x)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        loss = sum(bce(output, target) for output, target in zip(outputs, targets))
        loss.backward()
        optimizer.step()

    return step


def step_times(steps: dict[str, Callable[[], None]], repeats: int) -> dict[str, tuple[float, float]]:
    """Per step, (median, minimum) milliseconds over ``repeats`` interleaved runs."""
    times = interleaved_times(steps, repeats)
    return {name: (1e3 * statistics.median(values), 1e3 * min(values)) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"{QUBITS} qubits, {SHARED_LAYERS} shared strongly-entangling layers, {HEAD_LAYERS} head layer, "
          f"batch {BATCH}, torch threads {args.threads}, PennyLane {qml.version()}")
    print(f"{'tasks':>5} {'qmtl ms (median/min)':>21} {'naive ms (median/min)':>22} {'qmtl/qmtl(1)':>13} "
          f"{'naive/qmtl(1)':>14} {'naive/qmtl':>11}")
    base = None
    for n_tasks in args.tasks:
        times = step_times({"qmtl": qmtl_step(n_tasks), "naive": naive_step(n_tasks)}, args.repeats)
        (qmtl_median, qmtl_min), (naive_median, naive_min) = times["qmtl"], times["naive"]
        base = base or qmtl_min
        print(f"{n_tasks:>5} {qmtl_median:>12.1f} / {qmtl_min:>6.1f} "
              f"{naive_median:>13.1f} / {naive_min:>6.1f} "
              f"{qmtl_min / base:>13.2f} {naive_min / base:>14.2f} {naive_min / qmtl_min:>11.2f}", flush=True)


if __name__ == "__main__":
    main()
