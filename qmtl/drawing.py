"""Drawing a config's circuit: a text drawing and a figure (PNG by default), for one example input."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.backend_bases import FigureCanvasBase  # noqa: E402

from qmtl.config import clip, load_config  # noqa: E402
from qmtl.errors import UserError  # noqa: E402
from qmtl.protocols import CircuitModel  # noqa: E402
from qmtl.run import build_run  # noqa: E402
from qmtl.torch_device import features_to, module_device


def figure_path(config_path: str, out: str | None) -> Path:
    """Where the figure goes, checked before anything is built.

    ``out`` is a file whose extension matplotlib can write (``.png``, ``.pdf``, ``.svg``,
    ...) in an existing folder, or an existing folder that receives
    ``<config>-circuit.png``; without ``out`` the figure goes next to the config.
    """
    default_name = f"{Path(config_path).stem}-circuit.png"
    if out is None:
        return Path(config_path).with_name(default_name)
    path = Path(out)
    if path.is_dir():
        return path / default_name
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    suffix = path.suffix.lower().removeprefix(".")
    examples = ", ".join(f".{name}" for name in ("png", "pdf", "svg"))
    if not suffix or out.endswith(("/", "\\")):
        raise UserError(f"--out '{clip(out)}' is neither an existing folder nor a file name with an "
                        f"extension; give e.g. circuit.png (or {examples})")
    if suffix not in formats:
        raise UserError(f"--out '{clip(out)}': matplotlib cannot draw to '.{clip(suffix)}' files; use one of "
                        f"{', '.join('.' + name for name in formats)}")
    if not path.parent.is_dir():
        raise UserError(f"--out '{clip(out)}': the folder '{clip(str(path.parent))}' does not exist; "
                        f"create it or choose another path")
    return path


def draw_config(config_path: str, overrides: list[str] | None, out: str | None) -> tuple[str, Path]:
    """Build the configured model (seeded initialisation) and draw its circuit.

    Returns the text drawing and the path the figure was written to.
    """
    config = load_config(config_path, overrides)
    figure_file = figure_path(config_path, out)
    with build_run(config) as run:
        model = run.model
        if not isinstance(model, CircuitModel):
            raise UserError(f"architecture '{config.model.architecture}' has no single shared circuit to draw")
        circuit = model.circuit
        example = run.require_data().train.subset(slice(0, 1)).features
        angles = model.encoder(features_to(example, module_device(model)))[0].detach()
        figure, _ = circuit.draw_figure(angles)
    try:
        figure.savefig(figure_file, dpi=150, bbox_inches="tight")
    except OSError as error:
        raise UserError(
            f"cannot write '{figure_file}' ({error.strerror}); choose another path with --out"
        ) from None
    return circuit.draw(angles), figure_file
