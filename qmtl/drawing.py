"""Drawing a config's circuit: a text drawing and a PNG, for one example input."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from qmtl.architectures import build_model  # noqa: E402
from qmtl.config import load_config  # noqa: E402
from qmtl.data import load_data  # noqa: E402
from qmtl.devices import build_device  # noqa: E402
from qmtl.errors import UserError  # noqa: E402
from qmtl.training import seed_everything  # noqa: E402


def draw_config(config_path: str, overrides: list[str] | None, out: str | None) -> tuple[str, Path]:
    """Build the configured model (seeded initialisation) and draw its circuit."""
    config = load_config(config_path, overrides)
    seed_everything(config.seed)
    data = load_data(config.data, config.tasks, config.seed)
    device, diff_method = build_device(config.device, config.model.n_qubits, config.seed)
    model = build_model(config, data.input_dims, device, diff_method)
    circuit = getattr(model, "circuit", None)
    if circuit is None:
        raise UserError(f"architecture '{config.model.architecture}' has no single shared circuit to draw")
    example = data.train.subset(slice(0, 1)).features
    angles = model.encoder(example)[0].detach()
    png = Path(out) if out else Path(config_path).with_name(f"{Path(config_path).stem}-circuit.png")
    figure, _ = circuit.draw_figure(angles)
    try:
        figure.savefig(png, dpi=150, bbox_inches="tight")
    except OSError as error:
        raise UserError(f"cannot write '{png}' ({error.strerror}); choose another path with --out") from None
    return circuit.draw(angles), png
