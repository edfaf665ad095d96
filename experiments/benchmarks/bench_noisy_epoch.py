"""Time one noisy training epoch on Aer: Aer's density matrix per row vs the Pauli-transfer pass.

The epoch: ``experiments/configs/digits-5q.yaml`` (digits, 3 tasks, 5 qubits, 2
strongly-entangling layers, batch 32) on ``device.name=aer`` with ``device.noise=fake_manila``
and 4,000 shots, on a ``data.limit`` subset: every training batch's forward and parameter-shift
rows in one Estimator call, losses, backward and Adam, over the whole training split.

Two runs of the same config are built side by side in one process:

* **aer** -- the noisy expectation values of every parameter row from Aer's density-matrix
  method, one Aer experiment per row: what ``aer`` + ``noise`` did before
  ``qmtl/devices/transfer.py`` (and still does for circuits that picture declines), restored
  here by ``ShotSampledEstimator.pauli_transfer = False``.
* **transfer** -- the default now: the same values for all rows in one vectorised pass.

Both start from the same parameters and draw the same shot noise (the seed and the call
count fix it), so they train in step: the script reports the largest difference of their
epoch losses next to the ratio aer / transfer of the epoch times (median of the paired
ratios of interleaved repeats, with a distribution-free 95% interval, ``timing.py``).
Everything runs on 1 thread (torch; BLAS and Aer's OpenMP by ``OMP_NUM_THREADS=1``).

Run:  python experiments/benchmarks/bench_noisy_epoch.py [--limit 200 --repeats 5]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy loads BLAS

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import qiskit  # noqa: E402
import qiskit_aer  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import interleaved_times, ratio_interval  # noqa: E402

from qmtl.config import load_config  # noqa: E402
from qmtl.evaluation import task_losses  # noqa: E402
from qmtl.run import Run, build_run  # noqa: E402
from qmtl.training import batch_order  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "digits-5q.yaml"


def epoch_runner(run: Run, batch_size: int, seed: int) -> tuple[Callable[[], None], list[list[float]]]:
    """A closure training one epoch of ``run`` (Adam, summed task losses), and the list each
    call appends that epoch's per-task mean losses to."""
    data = run.require_data()
    tasks = list(run.config.tasks)
    optimizer = torch.optim.Adam(run.model.parameters(), lr=run.config.training.lr)
    history: list[list[float]] = []

    def epoch() -> None:
        order = batch_order(len(data.train), seed, len(history))
        totals = torch.zeros(len(tasks), dtype=torch.float64)
        for start in range(0, len(order), batch_size):
            batch = data.train.subset(order[start:start + batch_size])
            optimizer.zero_grad(set_to_none=True)
            losses = task_losses(run.model(batch.features), batch.targets, tasks, batch.labelled)
            losses.sum().backward()
            optimizer.step()
            totals += losses.detach().double() * len(batch)
        history.append((totals / len(order)).tolist())

    return epoch, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200, help="data.limit: examples before the split")
    parser.add_argument("--noise", default="fake_manila")
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per path (after one warm-up)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40 examples, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.limit, args.repeats = 40, 1
    torch.set_num_threads(1)
    overrides = ["device.name=aer", f"device.shots={args.shots}", f"device.noise={args.noise}",
                 f"data.limit={args.limit}"]
    config = load_config(CONFIG, overrides=overrides)
    epochs, histories, runs = {}, {}, []
    for path in ("aer", "transfer"):
        run = build_run(config)
        runs.append(run)
        run.device.target.estimator.pauli_transfer = path == "transfer"
        epochs[path], histories[path] = epoch_runner(run, config.training.batch_size, config.seed)
    try:
        times = interleaved_times(epochs, args.repeats)
    finally:
        for run in runs:
            run.close()
    rows = len(runs[0].require_data().train)
    print(f"one noisy epoch: {CONFIG.name}, aer + {args.noise}, {args.shots} shots, "
          f"{rows} training examples, batch {config.training.batch_size}; 1 thread; "
          f"{args.repeats} interleaved repeats after 1 warm-up")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; qiskit {qiskit.__version__}, "
          f"qiskit-aer {qiskit_aer.__version__}, torch {torch.__version__}")
    for path, seconds in times.items():
        print(f"  {path:8s} median {statistics.median(seconds):7.2f} s/epoch  "
              f"(min {min(seconds):.2f}, max {max(seconds):.2f})")
    median, low, high = ratio_interval(times["aer"], times["transfer"])
    print(f"  aer / transfer = {median:.1f}x  (95% interval {low:.1f}-{high:.1f})")
    difference = max(abs(a - b) for old, new in zip(histories["aer"], histories["transfer"])
                     for a, b in zip(old, new))
    print(f"  largest difference of the epoch losses between the paths: {difference:.1e}")


if __name__ == "__main__":
    main()
