"""Running trained qmtl models on IBM Quantum hardware (or its offline stand-ins).

Public API::

    open_backend(name) -> HardwareBackend              # backends.py; fake_<name> | ibm_<name> | ibm:<name>
    Ledger                                             # ledger.py; RUN_DIR/hardware/<backend>/jobs.json
    submit_run(run_dir, SubmitOptions) -> dict         # submit.py; the `qmtl submit` workflow
    jobs_table(run_dir) -> str                         # ledger.py; the `qmtl jobs` table

The account (``runtime_service``), the QPU-time model (``estimate_qpu_seconds``,
``circuit_resources``) and the mitigation options live in :mod:`qmtl.devices.account`,
:mod:`qmtl.devices.cost` and :mod:`qmtl.devices.mitigation`: the device needs them on every
Qiskit step, and dependencies point one way (``qmtl.hardware`` imports ``qmtl.devices``,
never the reverse; ``tests/test_layering.py`` checks it).  Modules import Qiskit Runtime
lazily where they can, so this package's ``__init__`` imports nothing.
"""
