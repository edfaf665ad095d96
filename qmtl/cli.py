"""The ``qmtl`` command line.

Every user mistake ends with exit code 2 and one line on stderr naming the problem and
the fix; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from qmtl.errors import UserError
from qmtl.secrets import RedactingStream, redact

if TYPE_CHECKING:
    from qmtl.rundir import RunDir


# Storage faults a user fixes (full disk, quota, permissions, read-only mount).
_STORAGE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit code 2 like every other."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message}; see '{self.prog} --help'")


def _format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def metrics_table(results: dict[str, dict[str, float]]) -> str:
    """A per-task table of a split's metrics."""
    columns = ["accuracy", "macro_f1", "mse", "mae", "r2", "loss"]
    present = [c for c in columns if any(c in m for m in results.values())]
    rows = [["task", *present]]
    for task, values in results.items():
        rows.append([task, *(f"{values[c]:.4f}" if c in values else "" for c in present)])
    return _format_table(rows)


def _default_out(config_path: str) -> Path:
    import time

    return Path("runs") / f"{Path(config_path).stem}-{time.strftime('%Y%m%d-%H%M%S')}"


class _Interrupted(KeyboardInterrupt):
    """Ctrl-C during a command, with the advice that continues its work."""

    def __init__(self, advice: str) -> None:
        super().__init__(advice)
        self.advice = advice


def _resume_advice(run_dir: RunDir) -> _Interrupted:
    if run_dir.config.exists():
        return _Interrupted(f"resume with 'qmtl train --resume {run_dir.path}'")
    return _Interrupted("the run had not started; run the same command again")


def cmd_train(args: argparse.Namespace) -> int:
    from qmtl.config import load_config
    from qmtl.rundir import RunDir
    from qmtl.runlock import run_lock
    from qmtl.training import Trainer

    if args.resume:
        run_dir = RunDir(args.resume)
        if args.config or args.set:
            raise UserError("--resume continues a run with its own config; drop CONFIG and --set")
        if args.out:
            raise UserError(f"--resume continues the run in '{run_dir.path}' itself; drop --out (to continue a "
                            f"copy elsewhere, copy the directory and resume the copy)")
        if args.force:
            raise UserError("--resume continues a run and --force overwrites it; drop one of them")
        if not run_dir.config.exists():
            raise UserError(f"'{run_dir.path}' holds no run to resume (no config.yaml); check the path")
        try:
            # The checks and the training under one lock: no other writer can finish,
            # overwrite or continue the run between them.
            with run_lock(run_dir.path, f"qmtl train --resume {run_dir.path}"):
                if run_dir.is_complete():
                    raise UserError(f"the run in '{run_dir.path}' is already complete; evaluate it with "
                                    f"'qmtl eval {run_dir.path}'")
                trainer = Trainer(load_config(run_dir.config), run_dir, progress=not args.quiet)
                final = trainer.run(resume=True)
        except KeyboardInterrupt:
            raise _resume_advice(run_dir) from None
    else:
        if not args.config:
            raise UserError("qmtl train needs a CONFIG.yaml (or --resume RUN_DIR); e.g. qmtl train experiments/configs/digits.yaml")
        config = load_config(args.config, args.set)
        run_dir = RunDir(args.out or _default_out(args.config))
        run_dir.check_new(args.force)  # refused now rather than after loading data and building the model
        try:
            # Trainer.run takes the run directory's lock around creating and writing the run.
            final = Trainer(config, run_dir, progress=not args.quiet, force=args.force).run(resume=False)
        except KeyboardInterrupt:
            raise _resume_advice(run_dir) from None
    print(f"test metrics ({final['device']}, best epoch {final['best_epoch']} of {final['epochs_run']}, "
          f"{final['wall_time_s']:.1f} s):")
    print(metrics_table(final["test"]))
    counts = final["parameters"]
    print(f"parameters: shared {counts['shared']}, heads {counts['heads']}, total {counts['total']}")
    print(f"results in {run_dir.path}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qmtl.evaluation import delta_m_against, evaluate_run
    from qmtl.strategies.delta_m import delta_m_label

    results = evaluate_run(Path(args.run_dir), args.split, args.set)
    print(metrics_table(results))
    if args.baseline:
        baseline = evaluate_run(Path(args.baseline), args.split, args.set)
        value = delta_m_against(results, baseline, args.delta_m_convention)
        print(f"{delta_m_label(args.delta_m_convention)} over {args.baseline}: {value:+.2f}")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    from qmtl.devices.mitigation import build_config, parse_noise_factors
    from qmtl.hardware.submit import SubmitOptions, submit_run
    from qmtl.runlock import run_lock

    factors = None if args.zne_noise_factors is None else parse_noise_factors(args.zne_noise_factors)
    mitigation = build_config(
        args.mitigation, zne_noise_factors=factors, zne_extrapolator=args.zne_extrapolator or None,
        zne_amplifier=args.zne_amplifier, randomizations=args.randomizations)
    options = SubmitOptions(args.backend, args.shots, args.mode, mitigation, args.max_qpu_seconds, args.dry_run,
                            args.yes, args.rows_per_job)
    run_path = Path(args.run_dir)
    if args.dry_run:
        submit_run(run_path, options)  # writes nothing: no lock, so it also works on a run still training
        return 0
    with run_lock(run_path, f"qmtl submit {run_path} --backend {args.backend}"):  # it writes hardware/
        submit_run(run_path, options)
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from qmtl.hardware.ledger import jobs_table

    print(jobs_table(Path(args.run_dir)))
    return 0


def cmd_circuits_export(args: argparse.Namespace) -> int:
    from qmtl.export import export_run
    from qmtl.runlock import run_lock

    run_path = Path(args.run_dir)
    out = Path(args.out) if args.out else None
    if out is not None and not out.resolve().is_relative_to(run_path.resolve()):
        paths = export_run(run_path, out)  # reads the run, writes elsewhere
    else:
        with run_lock(run_path, f"qmtl circuits export {run_path}"):
            paths = export_run(run_path, out)
    print("\n".join(str(path) for path in paths))
    return 0


def cmd_circuits_catalogue(args: argparse.Namespace) -> int:
    from qmtl.export import CATALOGUE, check_catalogue, write_catalogue

    if args.check:
        check_catalogue()
        print(f"{CATALOGUE}/ is up to date")
    else:
        print("\n".join(str(CATALOGUE / name) for name in write_catalogue()))
    return 0


def cmd_circuits_draw(args: argparse.Namespace) -> int:
    from qmtl.drawing import draw_config

    text, png = draw_config(args.config, args.set, args.out)
    print(text)
    print(f"circuit figure: {png}", file=sys.stderr)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from qmtl.sweep import failure_table, load_sweep, run_sweep, summary_table
    from qmtl.sweep_executors import build_executor

    sweep = load_sweep(args.sweep, args.out)
    with build_executor(args.executor, args.workers, args.address) as executor:
        result = run_sweep(sweep, executor, args.retries, progress=not args.quiet)
    print(_format_table(summary_table(sweep, result.summary)))
    failures = failure_table(result)
    if len(failures) > 1:
        print(_format_table(failures))
    print(f"{result.trained} trained, {result.skipped} skipped, {result.failed} failed; "
          f"results in {result.out / 'results.csv'} and {result.out / 'summary.csv'}")
    return 1 if result.failed else 0


def cmd_backends(args: argparse.Namespace) -> int:
    import json

    from qmtl.devices.targets import MAX_DENSITY_MATRIX_QUBITS, _fake_backend_classes

    rows = [["backend", "qubits", "as device.noise (Aer): widest circuit"]]
    for name, backend_class in sorted(_fake_backend_classes().items()):
        # The width is the n_qubits of the snapshot each fake backend is built from; reading
        # it takes milliseconds, where building all ~70 backends takes seconds.
        configuration = Path(backend_class.dirname) / backend_class.conf_filename
        qubits = json.loads(configuration.read_text())["n_qubits"]
        # Aer simulates only the qubits a circuit acts on after layout (density matrix).
        rows.append([name, str(qubits), f"{min(qubits, MAX_DENSITY_MATRIX_QUBITS)} qubits"])
    print(_format_table(rows))
    print("any of them runs as device.name=<backend> (Runtime local mode) and as qmtl submit --backend; "
          "the model's n_qubits must not exceed its qubits")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from qmtl.registry import describe

    print(describe())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qmtl", description="Hybrid quantum-classical multi-task learning.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    train = commands.add_parser("train", help="train a config into a run directory")
    train.add_argument("config", nargs="?", help="run config (YAML)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key, e.g. training.lr=0.01")
    train.add_argument("--out", help="run directory (default: runs/<config>-<time>)")
    train.add_argument("--force", action="store_true", help="overwrite a run directory that holds a run")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser("eval", help="evaluate a run's best model")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--split", choices=["train", "val", "test"], default="test")
    evaluate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                          help="override a key, e.g. device.name=aer to evaluate on another target")
    evaluate.add_argument("--baseline", metavar="RUN_DIR",
                          help="a single-task baseline run (e.g. architecture single_task): also print Δm%%")
    evaluate.add_argument("--delta-m-convention", choices=["libmtl", "nash_mtl"], default="libmtl",
                          help="Δm%% sign convention: libmtl (higher is better, default) or nash_mtl "
                               "(lower is better)")
    evaluate.set_defaults(handler=cmd_eval)

    submit = commands.add_parser("submit", help="evaluate a run's test split on an IBM or fake backend")
    submit.add_argument("run_dir")
    submit.add_argument("--backend", required=True, help="ibm_<name> (your account) or fake_<name> (local testing mode)")
    submit.add_argument("--shots", type=int, default=4000, help="shots per circuit (default 4000)")
    submit.add_argument("--mode", choices=["job", "batch", "session"], default="job", help="Runtime execution mode")
    submit.add_argument("--mitigation", action="append", choices=["none", "readout", "zne", "twirling", "dd", "pec"],
                        default=[], help="error mitigation, repeatable: each one and all together are compared "
                        "with unmitigated (readout=TREX, zne=zero-noise extrapolation, twirling=gate twirling, "
                        "dd=dynamical decoupling; pec is refused: it needs a learned noise model)")
    submit.add_argument("--zne-noise-factors", metavar="F1,F2,...", help="ZNE noise factors, each >= 1 (default 1,3,5)")
    submit.add_argument("--zne-extrapolator", action="append", default=[],
                        help="ZNE extrapolator, repeatable, tried in order: exponential, linear, double_exponential, "
                        "polynomial_degree_<1-7>, fallback (default exponential, then linear)")
    submit.add_argument("--zne-amplifier", choices=["gate_folding", "gate_folding_front", "gate_folding_back", "pea"],
                        help="how ZNE amplifies noise (default gate_folding; pea is refused: it needs a learned noise model)")
    submit.add_argument("--randomizations", type=int, help="twirling randomizations for readout/twirling (default auto)")
    submit.add_argument("--max-qpu-seconds", type=float, help="refuse when the QPU-time estimate is larger")
    submit.add_argument("--rows-per-job", type=int, help="examples per job (default: all in one job)")
    submit.add_argument("--dry-run", action="store_true", help="print resources and cost, send nothing")
    submit.add_argument("--yes", action="store_true", help="submit without asking")
    submit.set_defaults(handler=cmd_submit)

    jobs = commands.add_parser("jobs", help="the hardware jobs recorded for a run")
    jobs.add_argument("run_dir")
    jobs.set_defaults(handler=cmd_jobs)

    circuits = commands.add_parser("circuits", help="draw or export circuits")
    circuit_commands = circuits.add_subparsers(dest="circuits_command", parser_class=_Parser, metavar="ACTION")
    export = circuit_commands.add_parser("export", help="write a run's trained circuits as OpenQASM 3")
    export.add_argument("run_dir")
    export.add_argument("--out", help="folder (default: RUN_DIR/circuits)")
    export.set_defaults(handler=cmd_circuits_export)
    catalogue = circuit_commands.add_parser("catalogue", help="regenerate circuits/ from experiments/configs")
    catalogue.add_argument("--check", action="store_true", help="fail when circuits/ is out of date")
    catalogue.set_defaults(handler=cmd_circuits_catalogue)
    draw = circuit_commands.add_parser("draw", help="draw a config's circuit (text and PNG)")
    draw.add_argument("config")
    draw.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    draw.add_argument("--out", help="figure file (.png, .pdf, .svg, ...) or an existing folder "
                                    "(default: <config>-circuit.png next to the config)")
    draw.set_defaults(handler=cmd_circuits_draw)

    sweep = commands.add_parser("sweep", help="run a grid/list of configs x seeds and aggregate the results")
    sweep.add_argument("sweep", help="sweep file (YAML): base or config, grid and/or list, seeds")
    sweep.add_argument("--executor", choices=["local", "ray"], default="local", help="local process pool or Ray")
    sweep.add_argument("--address", help="Ray cluster address, e.g. auto or ray://host:10001 (default: start Ray locally)")
    sweep.add_argument("--workers", type=int, help="runs at once (local default 1; ray default: as the cluster allows)")
    sweep.add_argument("--retries", type=int, default=1, help="retries of a run that raised (default 1)")
    sweep.add_argument("--out", help="sweep directory (default: runs/sweeps/<name>)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(handler=cmd_sweep)

    backends = commands.add_parser("backends", help="the fake IBM backends: qubits, and which fit device.noise on Aer")
    backends.set_defaults(handler=cmd_backends)

    info = commands.add_parser("info", help="versions, devices and registered components")
    info.set_defaults(handler=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``qmtl`` command; the exit code.

    Everything printed meanwhile, to stdout and stderr, passes through
    :func:`qmtl.secrets.redact`, so no credential appears in a path, message or traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(stdout), RedactingStream(stderr)
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (``qmtl backends | head``): stop quietly, as Unix tools do;
        # stdout is pointed at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        return 128 + signal.SIGPIPE
    except Exception:  # a bug, not a user mistake: its traceback, with credentials redacted
        _print_traceback()
        return 1
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _print_traceback() -> None:
    """The current exception's traceback on stderr, every credential value replaced."""
    print(redact(traceback.format_exc()), end="", file=sys.stderr)


def _continuation(argv: list[str]) -> str:
    """How to carry on after a storage fault stopped the command ``argv``."""
    command = next((a for a in argv if not a.startswith("-")), "")
    if command == "train" and "--resume" in argv:
        return "run the same command again"
    if command == "train":
        out = argv[argv.index("--out") + 1] if "--out" in argv[:-1] else "RUN_DIR (the run directory printed above)"
        return f"continue with 'qmtl train --resume {out}' (or run it again if no run directory was made)"
    if command in ("sweep", "submit"):
        return f"run '{shlex.join(['qmtl', *argv])}' again to pick up where it stopped"
    return "run the same command again"


def _main(argv: list[str]) -> int:
    debug = "--debug" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not hasattr(args, "handler"):
            if args.command == "circuits":
                raise UserError("qmtl circuits needs an ACTION: draw, export or catalogue; see 'qmtl circuits --help'")
            parser.print_help()
            return 2
        return int(args.handler(args))
    except UserError as error:
        if debug:
            _print_traceback()
        print(f"qmtl: error: {redact(str(error))}", file=sys.stderr)
        return 2
    except OSError as error:
        # A fault of the storage or of a path the user gave (full disk, a folder where a
        # file belongs, a failing disk): the user fixes it, so one line, not a traceback.
        if error.errno not in _STORAGE_ERRORS and not error.filename:
            raise
        if debug:
            _print_traceback()
        where = f" '{error.filename}'" if error.filename else ""
        storage = error.errno in _STORAGE_ERRORS
        problem, fix = ("cannot write", "free space or fix permissions") if storage else ("cannot use", "check that path")
        print(f"qmtl: error: {problem}{where} ({error.strerror}); {fix}, then {_continuation(argv)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        if isinstance(interrupt, _Interrupted):
            advice = interrupt.advice
        elif next((a for a in argv if not a.startswith("-")), "") in ("sweep", "submit"):
            advice = f"run '{shlex.join(['qmtl', *argv])}' again to pick up where it stopped"
        else:
            advice = "run the same command again"
        print(f"qmtl: interrupted; {redact(advice)}", file=sys.stderr)
        return 130


def entry_point() -> None:
    """The console script: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
