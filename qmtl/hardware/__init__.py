"""Running trained qmtl models on IBM Quantum hardware (or its offline stand-ins).

Public API::

    runtime_service() -> QiskitRuntimeService         # account.py; UserError when none is set up
    open_backend(name) -> HardwareBackend              # backends.py; fake_<name> | ibm_<name> | ibm:<name>
    estimate_qpu_seconds(...), circuit_resources(...)  # cost.py; the QPU-time model
    Ledger                                             # ledger.py; RUN_DIR/hardware/<backend>/jobs.json
    submit_run(run_dir, SubmitOptions) -> dict         # submit.py; the `qmtl submit` workflow
    jobs_table(run_dir) -> str                         # ledger.py; the `qmtl jobs` table

Modules import Qiskit Runtime lazily where they can: ``qmtl.devices`` imports ``cost`` on
every Qiskit step, so this package's ``__init__`` imports nothing.
"""
