"""Tasks labelled on only some examples: label patterns, per-split checks, balanced batches.

A row's *label pattern* is the set of tasks it carries a label for.  With every row
labelled for every task there is one pattern, and nothing here changes what qmtl does.
With missing labels (or one data source per task, :mod:`qmtl.data.per_task`, where each
source's rows are labelled for its own task only) the patterns are used twice:

* the split is stratified by pattern, so every source (every way of being labelled)
  lands in train, validation and test in proportion, and each task is tested on its own
  labelled test rows;
* the batches of an epoch are dealt round-robin from the rows sorted by pattern
  (:func:`balanced_batches`), so every batch holds its proportional share of every
  pattern, and a task with fewer labelled training rows than batches has one of them
  added to each batch that would lack it: every task has a loss in every step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from qmtl.errors import UserError

SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


def label_patterns(labelled: Mapping[str, np.ndarray | torch.Tensor]) -> np.ndarray:
    """One integer per row naming its label pattern (``0 .. n_patterns - 1``, in sorted order)."""
    masks = np.stack([np.asarray(mask, dtype=bool) for mask in labelled.values()], axis=1)
    _, pattern = np.unique(masks, axis=0, return_inverse=True)
    return pattern.reshape(-1).astype(np.int64)


def has_missing_labels(labelled: Mapping[str, np.ndarray | torch.Tensor]) -> bool:
    """True when some task is unlabelled on some row."""
    return not all(bool(np.asarray(mask, dtype=bool).all()) for mask in labelled.values())


def check_labelled_in_every_split(source: str, labelled: Mapping[str, np.ndarray],
                                  splits: Mapping[str, np.ndarray]) -> None:
    """Refuse a split in which a task has no labelled example: it could not be trained,
    validated (early stopping reads every task's validation loss) or tested."""
    for task, mask in labelled.items():
        for split, index in splits.items():
            if not mask[index].any():
                raise UserError(
                    f"{source}: task '{task}' has no labelled example in the {SPLIT_NAMES[split]} split "
                    f"({int(mask.sum())} labelled of {len(mask)} examples in all); raise data.val_fraction / "
                    f"data.test_fraction or add labelled examples of '{task}'"
                )


def balanced_batches(labelled: Mapping[str, torch.Tensor], batch_size: int, seed: int, epoch: int) -> list[torch.Tensor]:
    """The epoch's batches of training-row indices: every label pattern spread evenly, and
    every task labelled in every batch.

    The rows are shuffled by a generator seeded with ``(seed, epoch)`` (as
    :func:`qmtl.training.batch_order`), grouped by label pattern (the patterns in a
    shuffled order) and dealt round-robin into ``ceil(n / batch_size)`` batches: a batch
    holds ``floor`` or ``ceil`` of ``m / n_batches`` rows of a pattern of ``m`` rows, and at
    most ``batch_size`` rows.  A task with fewer labelled rows than there are batches would
    be absent from some; each such batch gets one more row, the next of that task's
    labelled rows in a seeded shuffled cycle.  Those rows are seen more than once per
    epoch, as LibMTL's multi-input mode cycles the loader of a smaller task's data set, and
    every step has a loss for every task, so no strategy ever sees a task without data.
    """
    patterns = torch.from_numpy(label_patterns(labelled))
    n = len(patterns)
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(n, generator=generator)
    rank = torch.randperm(int(patterns.max()) + 1, generator=generator)[patterns[order]]
    grouped = order[torch.argsort(rank, stable=True)]
    n_batches = math.ceil(n / batch_size)
    batches = [grouped[start::n_batches] for start in range(n_batches)]
    for mask in labelled.values():
        rows = mask.nonzero().flatten()
        cycle = rows[torch.randperm(len(rows), generator=generator)]
        lacking = [j for j, batch in enumerate(batches) if not bool(mask[batch].any())]
        for used, j in enumerate(lacking):
            batches[j] = torch.cat([batches[j], cycle[used % len(cycle)].reshape(1)])
    return batches
