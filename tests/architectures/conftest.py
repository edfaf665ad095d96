"""``make_model(architecture, options=None, seed=0, raw=None, **builder_kwargs)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from architecture_models import build

from qmtl.model import MultiTaskModel


@pytest.fixture
def make_model(tiny_config: dict[str, Any]) -> Callable[..., MultiTaskModel]:
    def make(architecture: str, options: dict[str, Any] | None = None, seed: int = 0,
             raw: dict[str, Any] | None = None, **kwargs: Any) -> MultiTaskModel:
        return build(raw or tiny_config, architecture, options, seed, **kwargs)

    return make
