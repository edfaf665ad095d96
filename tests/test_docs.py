"""Every command and code block of the documentation runs as written.

Which documents: README.md, every ``docs/**/*.md``, ``experiments/benchmarks/README.md``
and ``circuits/README.md`` (one test per document, so a failure names its page).

What runs, in document order, in a scratch copy of the repository (so ``runs/``, figures
and exports land there and nothing in the checkout changes; later commands see what
earlier ones wrote, e.g. README's ``runs/dwa``):

* ```` ```bash ```` / ``sh`` / ``console`` / ``shell`` blocks: every command line
  (``\\`` continuations joined, a leading ``$ `` dropped). A plain ``qmtl ...`` line runs
  in this process through :func:`qmtl.cli.main`, the function behind the console script,
  so the ~10 s import of torch, PennyLane and Qiskit is paid once; anything else
  (``python ...``, ``make ...``, ``sed ...``, ``qmtl`` with shell operators) runs with
  ``bash`` and this environment's ``bin/`` first on ``PATH``. ``make`` uses this
  environment as its ``VENV`` and takes its install stamp as up to date (creating the
  environment is what CI's own ``make test`` does). Every command must exit 0.
* ```` ```python ```` blocks: executed as a script in the scratch copy.
* ```` ```yaml ```` blocks: a sweep file (it has ``grid``, ``list`` or ``seeds``) is saved
  next to ``experiments/sweeps/`` and loaded with :func:`qmtl.sweep.load_sweep`, which
  validates every run it expands to; any other block is a config fragment, merged over
  ``experiments/configs/digits.yaml``, validated, and its device, model and strategy are
  built.
* blocks without a language are shown output or diagrams: they must hold no command.

A block in any other language, or a command that neither runs nor appears in
:data:`NOT_RUN` (tiny, with the reason: network installs, an IBM account, the test suite
itself), fails the test, as does an entry of :data:`NOT_RUN` that matches nothing.

Speed. The default (fast) run shortens what would take minutes, and only that:

* ``qmtl train CONFIG ...`` gets ``--set training.epochs=1 --set data.limit=60`` appended
  (later ``--set`` win; ``qmtl eval`` / ``submit`` then use that run's small test split);
* figure scripts (``python experiments/figures/fN_*.py``) get ``--quick``;
* benchmark scripts get the small arguments of :data:`FAST_BENCHMARK_ARGUMENTS`;
* ``make demo`` (the full example, about a minute) is left to the slow run.

``pytest -m slow tests/test_docs.py`` runs every command exactly as written.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    [REPO / "README.md", REPO / "experiments" / "benchmarks" / "README.md", REPO / "circuits" / "README.md",
     *(REPO / "docs").rglob("*.md")]
)
SHELL_LANGUAGES = {"bash", "sh", "console", "shell"}
# Lines of a shell block that run nothing.
SHELL_NOISE = re.compile(r"^\s*(#.*)?$")
# Shell syntax that in-process execution would not honour.
SHELL_OPERATORS = re.compile(r"[|&;<>`$(){}*?]")

# (document, start of the command, reason): commands shown but not run here.
NOT_RUN: list[tuple[str, str, str]] = [
    ("README.md", "pip install", "installs packages from the network into the environment"),
    ("README.md", "make test", "runs the test suite that contains this test"),
    ("docs/howto/hardware.md", "python -c \"from qiskit_ibm_runtime import QiskitRuntimeService;",
     "saves an IBM Quantum account (needs a real API key)"),
    ("docs/howto/hardware.md", "qmtl submit runs/digits --backend ibm_torino", "needs an IBM Quantum account"),
    ("docs/howto/hardware.md", "qmtl jobs runs/digits", "lists the jobs of the IBM submission above"),
    ("docs/howto/hardware.md", "qmtl train experiments/configs/digits.yaml --out runs/digits-hw",
     "trains on IBM hardware (needs an IBM Quantum account)"),
    ("docs/howto/hardware.md", "sed -i 's/qpu_budget_seconds: 600/qpu_budget_seconds: 1200/' runs/digits-hw/config.yaml",
     "edits the config of the IBM run above"),
    ("docs/howto/hardware.md", "qmtl train --resume runs/digits-hw", "resumes the IBM run above"),
]
# Commands only the slow run executes, with the reason.
SLOW_ONLY: list[tuple[str, str]] = [
    ("make demo", "trains the full digits example (about a minute)"),
    ("qmtl train experiments/configs/digits-5q.yaml --set data.limit=60 --set training.epochs=1 "
     "--set device.name=fake_manila", "Runtime local mode runs every parameter row as its own circuit: minutes"),
]
FAST_TRAIN_OVERRIDES = ["--set", "training.epochs=1", "--set", "data.limit=60"]
FAST_BENCHMARK_ARGUMENTS = {
    "experiments/benchmarks/bench_qiskit_device.py": ["--batch", "2", "--repeats", "1", "--peer-batch", "1"],
    "experiments/benchmarks/bench_ansatz_heads.py": ["--tasks", "1", "2", "--repeats", "1"],
    "experiments/benchmarks/bench_core_step.py": ["--qubits", "4", "--repeats", "1"],
}
SCRATCH_IGNORE = shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__", "*.egg-info", ".pytest_cache")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a document."""

    document: str
    line: int
    language: str
    text: str

    def where(self) -> str:
        return f"{self.document}:{self.line}"


def code_blocks(path: Path, root: Path = REPO) -> list[Block]:
    """The fenced blocks of a Markdown file, in order (indented fences included)."""
    blocks, language, start, body = [], None, 0, []
    fence = re.compile(r"^\s*```\s*([\w+-]*)\s*$")
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = fence.match(line)
        if language is None:
            if match:
                language, start, body = match.group(1).lower(), number, []
        elif match and not match.group(1):
            blocks.append(Block(str(path.relative_to(root)), start, language, "\n".join(body)))
            language = None
        else:
            body.append(line)
    assert language is None, f"{path}: unclosed code block from line {start}"
    return blocks


def shell_commands(block: Block) -> list[str]:
    """The commands of a shell block: continuations joined, prompts and comments dropped."""
    commands, pending = [], ""
    for line in block.text.splitlines():
        line = line.strip()
        if not pending and SHELL_NOISE.match(line):
            continue
        line = line.removeprefix("$ ")
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        commands.append(pending + line)
        pending = ""
    assert not pending, f"{block.where()}: a command ends with a line continuation"
    return commands


def _normalised(command: str) -> str:
    return " ".join(command.split())


def _starts_with(command: str, start: str) -> bool:
    """Whether ``command`` begins with the words of ``start`` (whole words only)."""
    command, start = _normalised(command), _normalised(start)
    return command == start or command.startswith(start + " ")


def not_run_reason(document: str, command: str) -> str | None:
    for listed_document, start, reason in NOT_RUN:
        if listed_document == document and _starts_with(command, start):
            return reason
    return None


def fast_variant(command: str) -> str | None:
    """The command the fast run executes in place of ``command`` (``None``: slow run only)."""
    if any(_starts_with(command, start) for start, _ in SLOW_ONLY):
        return None
    words = shlex.split(command, comments=True)
    if words[:2] == ["qmtl", "train"] and "--resume" not in words:
        return shlex.join(words + FAST_TRAIN_OVERRIDES)
    if words[:1] == ["python"] and len(words) > 1:
        script = words[1]
        if script.startswith("experiments/figures/") and "--quick" not in words:
            return shlex.join(words + ["--quick"])
        if script in FAST_BENCHMARK_ARGUMENTS:
            return shlex.join(words + FAST_BENCHMARK_ARGUMENTS[script])
    return command


class DocumentRunner:
    """Runs a document's blocks in a scratch copy of the repository."""

    def __init__(self, scratch: Path, fast: bool) -> None:
        self.scratch = scratch
        self.fast = fast
        self.environment = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "MPLBACKEND": "Agg",
        }

    def run(self, block: Block) -> Iterator[str]:
        """Run one block; yield a description of each problem."""
        if block.language in SHELL_LANGUAGES:
            for command in shell_commands(block):
                yield from self.run_command(block, command)
        elif block.language == "python":
            yield from self.run_python(block)
        elif block.language == "yaml":
            yield from self.check_yaml(block)
        elif block.language == "":
            for line in block.text.splitlines():
                if re.match(r"^\s*(\$ |qmtl |python |make |pip )", line):
                    yield f"{block.where()}: a command in a block without a language; mark it ```bash: {line.strip()}"
        else:
            yield f"{block.where()}: ```{block.language} blocks are neither run nor checked; teach tests/test_docs.py"

    def run_command(self, block: Block, command: str) -> Iterator[str]:
        if not_run_reason(block.document, command):
            return
        to_run = fast_variant(command) if self.fast else command
        if to_run is None:
            return
        words = shlex.split(to_run, comments=True)
        started = time.perf_counter()
        plain = not SHELL_OPERATORS.search(to_run.split("#")[0])
        if words[0] == "qmtl" and plain:
            code, output = self._in_process(words[1:])
        elif words[0] == "python" and len(words) > 1 and words[1].endswith(".py") and plain:
            code, output = self._script_in_process(words[1:])
        else:
            code, output = self._in_shell(to_run, words)
        print(f"{block.where()} [{time.perf_counter() - started:5.1f} s, exit {code}] {to_run}")
        if code != 0:
            yield f"{block.where()}: `{to_run}` exited {code}:\n{output[-3000:]}"

    def _in_process(self, argv: list[str]) -> tuple[int, str]:
        from qmtl.cli import main

        return self._isolated(lambda: main(argv), argv=["qmtl", *argv])

    def _script_in_process(self, argv: list[str]) -> tuple[int, str]:
        """``python SCRIPT ARGS`` as Python runs it: that argv, the script's folder first on
        the path, ``__name__ == "__main__"``."""
        script = self.scratch / argv[0]

        def run_script() -> int:
            runpy.run_path(str(script), run_name="__main__")
            return 0

        return self._isolated(run_script, argv=[str(script), *argv[1:]], path=script.parent)

    def _isolated(self, call: Callable[[], int | None], argv: list[str], path: Path | None = None) -> tuple[int, str]:
        """Run ``call`` in this process with its output captured; an exception or
        ``SystemExit`` becomes the exit code. Afterwards ``sys.argv``, ``sys.path``, torch's
        thread count and the modules imported from the scratch copy are as before."""
        import torch

        saved_argv, saved_path, saved_modules = sys.argv[:], sys.path[:], set(sys.modules)
        # A module of the same name imported from elsewhere (e.g. the repository's
        # experiments/figures/common.py) must not stand in for the scratch copy's.
        siblings = {file.stem for file in path.glob("*.py")} if path is not None else set()
        shadowed = {name: sys.modules.pop(name) for name in siblings if name in sys.modules}
        threads = torch.get_num_threads()
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            sys.argv = argv
            if path is not None:
                sys.path.insert(0, str(path))
            try:
                code = call() or 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            except Exception:  # noqa: BLE001 - a crash is reported like a failing exit code
                traceback.print_exc()
                code = 1
            finally:
                sys.argv, sys.path[:] = saved_argv, saved_path
                torch.set_num_threads(threads)
                for name in set(sys.modules) - saved_modules:
                    module_file = getattr(sys.modules[name], "__file__", None)
                    if module_file and Path(module_file).is_relative_to(self.scratch):
                        del sys.modules[name]
                sys.modules.update(shadowed)
        return code, output.getvalue()

    def _in_shell(self, command: str, words: list[str]) -> tuple[int, str]:
        if words[0] == "make":
            venv = Path(sys.executable).parents[1]
            command = f"{command} VENV={venv} -o {venv}/.installed"
        done = subprocess.run(["bash", "-c", command], cwd=self.scratch, env=self.environment,
                              capture_output=True, text=True, timeout=900)
        return done.returncode, done.stdout + done.stderr

    def run_python(self, block: Block) -> Iterator[str]:
        script = self.scratch / f"doc_snippet_{block.line}.py"
        script.write_text(block.text)
        code, output = self._script_in_process([script.name])
        if code != 0:
            yield f"{block.where()}: python block failed (exit {code}):\n{output[-3000:]}"

    def check_yaml(self, block: Block) -> Iterator[str]:
        from qmtl.errors import UserError

        try:
            raw = yaml.safe_load(block.text)
            if isinstance(raw, dict) and {"grid", "list", "seeds"} & raw.keys():
                self._check_sweep(block)
            else:
                self._check_config_fragment(raw)
        except (UserError, yaml.YAMLError, ValueError, TypeError) as error:
            yield f"{block.where()}: yaml block is not a valid {type(error).__name__}: {error}"

    def _check_sweep(self, block: Block) -> None:
        from qmtl.sweep import load_sweep

        path = self.scratch / "experiments" / "sweeps" / f"doc-block-{block.line}.yaml"
        path.write_text(block.text)
        load_sweep(path, out=self.scratch / "runs" / "doc-sweep")

    def _check_config_fragment(self, fragment: Any) -> None:
        from qmtl.architectures import build_model
        from qmtl.config import read_yaml, validate_config
        from qmtl.devices import build_device
        from qmtl.strategies import build_strategy

        if not isinstance(fragment, dict):
            raise ValueError(f"expected a mapping of config sections, got {type(fragment).__name__}")
        raw = _merged(read_yaml(REPO / "experiments" / "configs" / "digits.yaml"), fragment)
        config = validate_config(raw)
        device, diff_method = build_device(config.device, config.model.n_qubits, config.seed)
        build_model(config, 64, device, diff_method)
        training = config.training
        build_strategy(training.weighting, training.aggregator, len(config.tasks),
                       training.aggregator_options if training.aggregator else training.weighting_options,
                       config.seed)


def _merged(base: dict[str, Any], fragment: dict[str, Any]) -> dict[str, Any]:
    """``fragment`` over ``base``: mappings merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _run_document(document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    scratch = tmp_path / "repo"
    shutil.copytree(REPO, scratch, ignore=SCRATCH_IGNORE)
    monkeypatch.chdir(scratch)
    runner = DocumentRunner(scratch, fast)
    problems = [problem for block in code_blocks(document) for problem in runner.run(block)]
    assert not problems, "\n\n".join(problems)


def _document_id(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("document", DOCUMENTS, ids=_document_id)
def test_documented_commands_run(document, tmp_path, monkeypatch):
    _run_document(document, tmp_path, monkeypatch, fast=True)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("document", DOCUMENTS, ids=_document_id)
def test_documented_commands_run_as_written(document, tmp_path, monkeypatch):
    _run_document(document, tmp_path, monkeypatch, fast=False)


def test_every_not_run_entry_names_a_documented_command():
    commands = {
        (block.document, command)
        for document in DOCUMENTS
        for block in code_blocks(document) if block.language in SHELL_LANGUAGES
        for command in shell_commands(block)
    }
    for listed_document, start, reason in NOT_RUN:
        assert any(document == listed_document and _starts_with(command, start)
                   for document, command in commands), f"stale NOT_RUN entry ({reason}): {start}"
    for start, reason in SLOW_ONLY:
        assert any(_starts_with(command, start) for _, command in commands), \
            f"stale SLOW_ONLY entry ({reason}): {start}"


def test_a_failing_or_unknown_block_is_reported(tmp_path, monkeypatch):
    """The harness itself: a failing command, a bad snippet and an unknown language all fail."""
    page = tmp_path / "page.md"
    page.write_text(
        "```bash\nqmtl train missing.yaml\n```\n\n"
        "```python\nraise RuntimeError('snippet broke')\n```\n\n"
        "```yaml\ntraining: {epochs: many}\n```\n\n"
        "```toml\n[tool]\n```\n\n"
        "```\nqmtl info\n```\n"
    )
    monkeypatch.chdir(tmp_path)
    runner = DocumentRunner(tmp_path, fast=True)
    problems = [problem for block in code_blocks(page, root=tmp_path) for problem in runner.run(block)]
    assert len(problems) == 5, problems
    assert "exited 2" in problems[0] and "snippet broke" in problems[1] and "epochs" in problems[2]
    assert "```toml" in problems[3] and "without a language" in problems[4]

