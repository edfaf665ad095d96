"""qmtl — hybrid quantum-classical multi-task learning.

Classical encoders feed a shared variational quantum circuit; per-task measurement
heads read each task's output from it; everything trains jointly through PennyLane's
Torch interface, on exact simulators, Qiskit Aer or IBM Quantum hardware.
"""

__version__ = "0.1.0"
