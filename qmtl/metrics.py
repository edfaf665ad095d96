"""Task metrics on torch tensors: accuracy, macro-F1, MSE, MAE and R²."""

from __future__ import annotations

import torch


def accuracy(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of labels predicted exactly."""
    return float((prediction == target.long()).double().mean())


def macro_f1(prediction: torch.Tensor, target: torch.Tensor, n_classes: int) -> float:
    r"""Unweighted mean over classes of :math:`F_1 = 2\,TP / (2\,TP + FP + FN)`.

    Classes absent from both prediction and target are left out of the mean, as in
    scikit-learn's ``f1_score(average="macro")`` restricted to observed labels.
    """
    target = target.long()
    scores = []
    for label in range(n_classes):
        predicted, actual = prediction == label, target == label
        tp = float((predicted & actual).sum())
        fp = float((predicted & ~actual).sum())
        fn = float((~predicted & actual).sum())
        if tp + fp + fn > 0:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def mean_squared_error(prediction: torch.Tensor, target: torch.Tensor) -> float:
    return float(((prediction - target) ** 2).double().mean())


def mean_absolute_error(prediction: torch.Tensor, target: torch.Tensor) -> float:
    return float((prediction - target).abs().double().mean())


def r2_score(prediction: torch.Tensor, target: torch.Tensor) -> float:
    r"""Coefficient of determination :math:`1 - SS_{res}/SS_{tot}`, averaged over outputs."""
    prediction, target = prediction.double(), target.double()
    if target.dim() == 1:
        prediction, target = prediction[:, None], target[:, None]
    residual = ((target - prediction) ** 2).sum(dim=0)
    total = ((target - target.mean(dim=0)) ** 2).sum(dim=0)
    return float((1 - residual / total.clamp_min(1e-12)).mean())
