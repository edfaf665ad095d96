"""Time one hybrid training step on Qiskit Aer three ways, in one process.

The reference step: a torch encoder (Linear 8 -> n_qubits) feeds RY angle encoding, then
``qml.StronglyEntanglingLayers`` (3 layers), ``<Z_i>`` on every wire, three linear task heads,
batch 16, MSE losses summed, forward + backward.

(a) qmtl's ``EstimatorDevice`` on exact Aer (``diff_method="device"``; one Estimator call).
(b) pennylane-qiskit's ``qiskit.aer`` device (statevector method, ``parameter-shift``), an
    optional peer: install with ``pip install --no-deps "pennylane-qiskit==0.45.*"`` (with its
    dependencies it would downgrade qiskit to 2.3 and qiskit-ibm-runtime to 0.45).  Skipped
    when absent.  It is slow, so it runs ONE step, on ``--peer-batch`` samples; its time is
    scaled linearly to the full batch (each sample is its own set of circuits there) and the
    script says so.
(c) the same forward + shift parameter rows, captured from (a), sent straight to
    ``qiskit_aer.primitives.EstimatorV2.run`` -- the floor for any device built on it.

Run:  python experiments/benchmarks/bench_qiskit_device.py [--qubits 4 --batch 16 ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import pennylane as qml
import torch
from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2

from qmtl.devices import DeviceConfig, build_device

N_FEATURES, N_TASKS = 8, 3


def make_step(device, diff_method: str, n_qubits: int, layers: int, batch: int, seed: int = 0,
              expand: bool = False):
    """A closure running one forward+backward step of the reference model on ``device``.

    ``expand`` splits the broadcast batch into one tape per sample before differentiation:
    PennyLane's parameter-shift transform cannot differentiate a broadcast (per-sample)
    trainable parameter (PennyLane issue #4462), so pennylane-qiskit needs it.
    """
    torch.manual_seed(seed)
    encoder = torch.nn.Linear(N_FEATURES, n_qubits)
    heads = torch.nn.ModuleList(torch.nn.Linear(n_qubits, 1) for _ in range(N_TASKS))
    shape = qml.StronglyEntanglingLayers.shape(n_layers=layers, n_wires=n_qubits)
    weights = torch.nn.Parameter(torch.rand(shape) * 6)
    features = torch.rand(batch, N_FEATURES)
    targets = torch.rand(N_TASKS, batch)

    @qml.qnode(device, interface="torch", diff_method=diff_method)
    def circuit(inputs, weights):
        for i in range(n_qubits):
            qml.RY(inputs[..., i], wires=i)
        qml.StronglyEntanglingLayers(weights, wires=range(n_qubits))
        return tuple(qml.expval(qml.Z(i)) for i in range(n_qubits))

    if expand:
        circuit = qml.transforms.broadcast_expand(circuit)

    def step() -> None:
        for p in [*encoder.parameters(), *heads.parameters(), weights]:
            p.grad = None
        shared = torch.stack(list(circuit(encoder(features), weights)), dim=-1).float()
        loss = sum(torch.nn.functional.mse_loss(head(shared).squeeze(-1), target)
                   for head, target in zip(heads, targets))
        loss.backward()

    return step


def timed(function, repeats: int) -> float:
    """Median wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=4)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-batch", type=int, default=16,
                        help="batch for the single pennylane-qiskit step (scaled to --batch)")
    args = parser.parse_args()
    print(f"reference step: {args.qubits} qubits, {args.layers} strongly-entangling layers, "
          f"{N_TASKS} task heads, batch {args.batch}, forward+backward")

    # (a) qmtl EstimatorDevice on exact Aer; capture the PUBs of one step for (c).
    device, diff_method = build_device(DeviceConfig(name="aer"), args.qubits, seed=0)
    step = make_step(device, diff_method, args.qubits, args.layers, args.batch)
    captured = []
    run = device.target.estimator.run
    device.target.estimator.run = lambda pubs, **kw: captured.append(pubs) or run(pubs, **kw)
    first = timed(step, 1)
    calls_before = device.primitive_calls
    time_a = timed(step, args.repeats)
    calls_per_step = (device.primitive_calls - calls_before) / args.repeats
    rows = sum(len(pub[2]) for pub in captured[0])
    print(f"(a) qmtl EstimatorDevice, exact Aer: {time_a:.3f} s/step (first step incl. "
          f"transpile {first:.3f} s); {calls_per_step:g} Estimator call(s)/step, "
          f"{device.transpilations} transpilation(s); {rows} parameter rows "
          f"-> {rows / time_a:,.0f} circuits/s")

    # (c) the raw primitive over the same rows.
    estimator = AerEstimatorV2()
    time_c = timed(lambda: estimator.run(captured[0]).result(), args.repeats)
    print(f"(c) raw Aer EstimatorV2.run, same {rows} rows in one PUB: {time_c:.3f} s "
          f"-> {rows / time_c:,.0f} circuits/s")
    print(f"    (a)/(c) = {time_a / time_c:.2f}  (target <= 1.5)")

    # (b) pennylane-qiskit, if installed.
    if importlib.util.find_spec("pennylane_qiskit") is None:
        print("(b) skipped: pennylane-qiskit is an optional peer and is not installed "
              "(pip install --no-deps 'pennylane-qiskit==0.45.*')")
        return
    peer = qml.device("qiskit.aer", wires=args.qubits, method="statevector")
    peer_step = make_step(peer, "parameter-shift", args.qubits, args.layers, args.peer_batch,
                          expand=True)
    with qml.Tracker(peer) as tracker:
        measured = timed(peer_step, 1)
    circuits = tracker.totals.get("executions", 0)
    time_b = measured * args.batch / args.peer_batch
    scaled = "" if args.peer_batch == args.batch else (
        f" (measured {measured:.1f} s at batch {args.peer_batch}, scaled x"
        f"{args.batch / args.peer_batch:g} to batch {args.batch})")
    print(f"(b) pennylane-qiskit qiskit.aer, parameter-shift: {time_b:.1f} s/step{scaled}; "
          f"{circuits} circuits executed -> {circuits / measured:,.0f} circuits/s")
    print(f"    (b)/(a) = {time_b / time_a:,.0f}x  (target >= 200x)")


if __name__ == "__main__":
    main()
