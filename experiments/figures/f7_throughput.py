"""F7: training throughput (samples/s, log scale) of qmtl vs its peers, timed side by side.

Measured in this process, repetitions interleaved so that load on the machine hits both
sides alike (median over repeats):

* ``default.qubit`` (backprop), the reference model of ``bench_core_step.py``: MLP
  encoder, 3 strongly-entangling layers, <Z> on every wire, 3 task heads, batch 64:
  qmtl's hard-sharing step (``qmtl_step``) vs a plain PennyLane ``TorchLayer`` model
  (``pennylane_step``), at several qubit counts;
* exact Qiskit Aer, the reference step of ``bench_qiskit_device.py`` (4 qubits, 3 layers,
  3 heads, batch 16): qmtl's ``EstimatorDevice`` (one Estimator call per step, parameter
  shift on the device) vs a raw ``qiskit_aer`` ``EstimatorV2.run`` over the same forward
  and shift parameter rows (the floor for any device on that primitive: no torch, no
  backward).

Not run here: pennylane-qiskit's ``qiskit.aer`` device needs about 3 minutes for one step.
Its bar is the time *recorded* in ``experiments/benchmarks/README.md`` (197 s for one step
at batch 16, measured with ``bench_qiskit_device.py``), converted to samples/s, hatched and
labelled "recorded" in the plot and ``source=recorded`` in the CSV.

Samples/s = batch / median step time.  Each interleaved round times both sides back to back,
so the ratio of one round's two times is a paired measurement under the same load; the CSV
records, per comparison, the median of those per-round ratios with its distribution-free
95 % interval (``ratio_interval`` of ``experiments/benchmarks/timing.py``).  The benchmarks
answer issue 2 (core step) and the batched-Estimator issue; the numbers depend on the
machine and its load.

    python experiments/figures/f7_throughput.py [--quick] [--out DIR]
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

import matplotlib.pyplot as plt
import torch
from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2

from common import ROOT, arguments, save
from qmtl.devices import DeviceConfig, build_device

sys.path.insert(0, str(ROOT / "experiments" / "benchmarks"))
from bench_core_step import BATCH, pennylane_step, qmtl_step  # noqa: E402
from bench_qiskit_device import make_step  # noqa: E402
from timing import interleaved_times, ratio_interval  # noqa: E402

NAME = "f7_throughput"
AER_QUBITS, AER_LAYERS, AER_BATCH = 4, 3, 16
RECORDED = {"implementation": "pennylane-qiskit qiskit.aer", "step_s": 197.0, "batch": 16,
            "note": "recorded, bench_qiskit_device.py (experiments/benchmarks/README.md)"}


def speed_up(times: dict[str, list[float]], faster: str, slower: str, target: str, qubits: int) -> dict[str, Any]:
    """A CSV row: how many times ``slower``'s step time ``faster``'s is, per interleaved round
    (median and 95 % interval of the per-round ratios)."""
    median, low, high = ratio_interval(times[slower], times[faster])
    return {"target": target, "qubits": qubits, "implementation": f"{slower} / {faster}", "source": "ratio",
            "ratio": median, "ratio_ci95_low": low, "ratio_ci95_high": high, "rounds": len(times[faster])}


def main() -> None:
    args = arguments(__doc__, NAME)
    qubits, repeats = ([4], 3) if args.quick else ([4, 8, 12], 9)
    torch.manual_seed(0)
    rows: list[dict[str, Any]] = []
    ratios: list[dict[str, Any]] = []
    for n in qubits:
        times = interleaved_times({"qmtl hard sharing": qmtl_step(n), "PennyLane TorchLayer": pennylane_step(n)},
                                  repeats)
        medians = {name: statistics.median(values) for name, values in times.items()}
        rows += [{"target": "default.qubit", "qubits": n, "implementation": name, "batch": BATCH, "step_s": t,
                  "samples_per_s": BATCH / t, "source": "measured"} for name, t in medians.items()]
        ratios.append(speed_up(times, "qmtl hard sharing", "PennyLane TorchLayer", "default.qubit", n))
        print(f"  default.qubit, {n} qubits: {medians}", flush=True)
    device, diff_method = build_device(DeviceConfig(name="aer"), AER_QUBITS, seed=0)
    step = make_step(device, diff_method, AER_QUBITS, AER_LAYERS, AER_BATCH)
    captured: list[Any] = []
    run = device.target.estimator.run
    device.target.estimator.run = lambda pubs, **kw: captured.append(pubs) or run(pubs, **kw)
    step()
    estimator = AerEstimatorV2()
    times = interleaved_times({"qmtl EstimatorDevice": step,
                               "raw Aer EstimatorV2 (rows only)": lambda: estimator.run(captured[0]).result()}, repeats)
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratios.append(speed_up(times, "raw Aer EstimatorV2 (rows only)", "qmtl EstimatorDevice", "aer (exact)", AER_QUBITS))
    rows += [{"target": "aer (exact)", "qubits": AER_QUBITS, "implementation": name, "batch": AER_BATCH, "step_s": t,
              "samples_per_s": AER_BATCH / t, "source": "measured"} for name, t in medians.items()]
    print(f"  aer, {AER_QUBITS} qubits: {medians}", flush=True)
    rows.append({"target": "aer (exact)", "qubits": AER_QUBITS, "implementation": RECORDED["implementation"],
                 "batch": RECORDED["batch"], "step_s": RECORDED["step_s"],
                 "samples_per_s": RECORDED["batch"] / RECORDED["step_s"], "source": RECORDED["note"]})

    figure, axis = plt.subplots(figsize=(9, 3.6))
    groups = list(dict.fromkeys((row["target"], row["qubits"]) for row in rows))
    position, ticks = 0.0, []
    colours: dict[str, str] = {}
    for target, n in groups:
        members = [row for row in rows if (row["target"], row["qubits"]) == (target, n)]
        start = position
        for row in members:
            new = row["implementation"] not in colours
            colour = colours.setdefault(row["implementation"], f"C{len(colours)}")
            recorded = row["source"] != "measured"
            label = row["implementation"] + ("\n(recorded, bench_qiskit_device.py)" if recorded else "")
            axis.bar(position, row["samples_per_s"], 0.8, color=colour, hatch="//" if recorded else None,
                     edgecolor="black" if recorded else colour, alpha=0.6 if recorded else 1.0,
                     label=label if new else None)
            axis.text(position, row["samples_per_s"], f"{row['samples_per_s']:.3g}", ha="center", va="bottom",
                      fontsize=6)
            position += 1
        ticks.append(((start + position - 1) / 2, f"{target}\n{n} qubits, batch {members[0]['batch']}"))
        position += 0.8
    axis.set_xticks([t for t, _ in ticks], [label for _, label in ticks], fontsize=7)
    axis.set_yscale("log")
    axis.set_ylabel("training samples / s")
    axis.set_title("Training throughput (median step; forward + backward)")
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    save(figure, rows + ratios, args.out, NAME)


if __name__ == "__main__":
    main()
