"""The tiny hybrid model under both PennyLane differentiation methods."""

from __future__ import annotations

import pytest
from strategy_toys import TinyHybrid, make_tiny_hybrid


@pytest.fixture(params=["backprop", "parameter-shift"])
def tiny_hybrid(request: pytest.FixtureRequest) -> TinyHybrid:
    return make_tiny_hybrid(request.param)
