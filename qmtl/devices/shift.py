r"""Vectorised two-term parameter-shift rule.

For a gate :math:`U(\theta) = e^{-i\theta P/2}` with :math:`P` a Pauli word (RX, RY, RZ; and
PhaseShift, which equals RZ up to a global phase), every expectation value is
:math:`f(\theta) = a + b\cos\theta + c\sin\theta`, hence exactly

.. math:: \partial_\theta f(\theta) = \tfrac12\,[f(\theta + \pi/2) - f(\theta - \pi/2)].

(Mitarai et al., PRA 98, 032309 (2018); Schuld et al., PRA 99, 032331 (2019), eq. 13.)
Each trainable angle therefore costs two extra parameter rows of the *same* circuit, so a
tape's values and gradient are one block of ``1 + 2T`` rows evaluated in one primitive call.
"""

from __future__ import annotations

import numpy as np

SHIFT = np.pi / 2


def shift_rows(angles: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Rows ``[angles, angles + s e_k1, angles - s e_k1, angles + s e_k2, ...]``.

    ``angles`` has shape ``(n,)``; ``slots`` (shape ``(T,)``) are the angle indices to shift.
    Returns shape ``(1 + 2T, n)``.
    """
    rows = np.repeat(angles[None, :], 1 + 2 * len(slots), axis=0)
    steps = np.arange(len(slots))
    rows[1 + 2 * steps, slots] += SHIFT
    rows[2 + 2 * steps, slots] -= SHIFT
    return rows


def split_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From values of shape ``(k, 1 + 2T)`` (k observables over the rows of
    :func:`shift_rows`), return the forward values ``(k,)`` and the Jacobian ``(k, T)``."""
    return values[:, 0], 0.5 * (values[:, 1::2] - values[:, 2::2])
