"""The comparison of circuit values scores each task on its labelled rows only, as evaluate does."""

import numpy as np
import pytest
import torch

from qmtl.config import validate_config
from qmtl.data import Split
from qmtl.evaluation import evaluate
from qmtl.hardware.compare import metrics_from_values
from qmtl.run import build_run
from tests.tiny_configs import TINY


def test_unlabelled_rows_are_not_scored():
    with build_run(validate_config(TINY)) as run:
        model, tasks, test = run.model, run.config.tasks, run.require_data().test
        labelled = {name: torch.ones(len(test.features), dtype=torch.bool) for name in test.targets}
        labelled["parity"][::3] = False
        # Targets of unlabelled rows are placeholders: scrambling them must change nothing.
        scrambled = {name: target.clone() for name, target in test.targets.items()}
        scrambled["parity"][~labelled["parity"]] = 1 - scrambled["parity"][~labelled["parity"]]
        masked = Split(test.features, scrambled, labelled)
        with torch.no_grad():
            values = model.circuit(model.encoder(test.features)).numpy()
        from_values = metrics_from_values(model, np.asarray(values), masked, tasks)
        reference = evaluate(model, Split(test.features, test.targets, labelled), tasks)
    for name, scores in reference.items():
        for metric, value in scores.items():
            assert from_values[name][metric] == pytest.approx(value, abs=1e-6)
