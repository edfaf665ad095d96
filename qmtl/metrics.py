r"""Task metrics: accuracy, macro-F1, MSE, MAE and R², computed by ``sklearn.metrics``.

The functions take the torch tensors the tasks produce (labels or regression outputs, one
row per example) and return plain floats, so that they go straight into ``metrics.jsonl``
and ``final.json``.  The arithmetic is scikit-learn's; this module only fixes the choices
that scikit-learn leaves open:

* macro-F1 averages over the classes seen in the target or the prediction (a class absent
  from both has no defined F1 and is left out of the mean);
* R² is averaged uniformly over outputs, and a constant target column scores as
  scikit-learn's ``force_finite=True`` says: 1.0 when predicted exactly, else 0.0
  (instead of :math:`-\infty`), so one constant column cannot swamp the mean;
* R² of fewer than two examples is undefined: NaN, with scikit-learn's warning.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn import metrics as sk_metrics


def _numpy(values: torch.Tensor) -> np.ndarray:
    return values.detach().cpu().numpy()


def accuracy(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of labels predicted exactly (``sklearn.metrics.accuracy_score``)."""
    return float(sk_metrics.accuracy_score(_numpy(target.long()), _numpy(prediction.long())))


def macro_f1(prediction: torch.Tensor, target: torch.Tensor, n_classes: int) -> float:
    r"""Unweighted mean over classes of :math:`F_1 = 2\,TP / (2\,TP + FP + FN)`.

    ``sklearn.metrics.f1_score(average="macro")`` over the labels ``0 .. n_classes - 1``
    that occur in the target or the prediction.  A class absent from both has
    :math:`TP + FP + FN = 0`, so its F1 is undefined; counting it as 0 (or 1) would move
    the score with the size of the split, so it is left out of the mean.
    """
    target_labels, predicted_labels = _numpy(target.long()), _numpy(prediction.long())
    observed = np.intersect1d(np.union1d(target_labels, predicted_labels), np.arange(n_classes))
    return float(sk_metrics.f1_score(target_labels, predicted_labels, labels=observed, average="macro"))


def mean_squared_error(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over examples and outputs of the squared error (``sklearn.metrics``)."""
    return float(sk_metrics.mean_squared_error(_numpy(target.double()), _numpy(prediction.double())))


def mean_absolute_error(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over examples and outputs of the absolute error (``sklearn.metrics``)."""
    return float(sk_metrics.mean_absolute_error(_numpy(target.double()), _numpy(prediction.double())))


def r2_score(prediction: torch.Tensor, target: torch.Tensor) -> float:
    r"""Coefficient of determination :math:`1 - SS_{res}/SS_{tot}`, averaged over outputs.

    ``sklearn.metrics.r2_score(multioutput="uniform_average")`` with its default
    ``force_finite=True``: an output whose target is constant (:math:`SS_{tot} = 0`)
    scores 1.0 if predicted exactly and 0.0 otherwise.
    """
    return float(
        sk_metrics.r2_score(
            _numpy(target.double()), _numpy(prediction.double()), multioutput="uniform_average"
        )
    )
