"""The documentation site (mkdocs.yml): it builds in strict mode, offline, with the API
reference's maths rendered and every link between README, docs/ and the repository valid."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / "docs" / "hooks"


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    # A proxy that refuses every connection: a build that downloads anything fails.
    offline = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    env = {**os.environ, **offline, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=config.parent, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = mkdocs_build(ROOT / "mkdocs.yml", site)
    assert result.returncode == 0, result.stderr[-4000:]
    return site


def test_site_builds_in_strict_mode_with_every_chapter(site: Path):
    for page in ["quickstart", "concepts", "configuration", "datasets", "architectures", "strategies",
                 "sweeps", "results", "howto/aer", "howto/hardware"]:
        assert (site / page / "index.html").is_file(), page
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "hybrid quantum-classical multi-task learning" in home  # README.md is the home page
    assert 'href="quickstart/"' in home  # README's docs/quickstart.md, re-based
    assert 'href="repository/experiments/benchmarks/"' in home  # a README outside docs/, published


def test_api_reference_renders_docstrings_with_maths(site: Path):
    for page in ["config", "model", "devices", "strategies", "data", "training", "hardware", "sweep", "cli"]:
        html = (site / "api" / page / "index.html").read_text(encoding="utf-8")
        assert 'class="doc doc-object' in html, page  # mkdocstrings rendered the modules
        for rest_markup in (":math:`", ".. math::", ":class:`", ":func:`", ":meth:`"):
            assert rest_markup not in html, (page, rest_markup)
    strategies = (site / "api" / "strategies" / "index.html").read_text(encoding="utf-8")
    assert '<div class="arithmatex">\\[' in strategies  # a ``.. math::`` block, for MathJax
    training = (site / "api" / "training" / "index.html").read_text(encoding="utf-8")
    assert '<span class="arithmatex">\\(F_1 = 2\\,TP / (2\\,TP + FP + FN)\\)</span>' in training


def load_hook(name: str):
    spec = importlib.util.spec_from_file_location(name, HOOKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rst_docstrings_become_markdown_for_mkdocstrings():
    rst_to_markdown = load_hook("rst_docstrings").rst_to_markdown
    docstring = textwrap.dedent("""\
        Weights :math:`w_i` of :class:`~qmtl.strategies.base.Weighting`.

        .. math::

            d = \\sum_i w_i g_i

        Public API::

            build_device(config) -> device
        """)
    markdown = rst_to_markdown(docstring)
    assert "$w_i$" in markdown and "`Weighting`" in markdown and "~qmtl" not in markdown
    assert "$$\nd = \\sum_i w_i g_i\n$$" in markdown
    assert "\n```python\nbuild_device(config) -> device\n```" in markdown  # a fence at column 0
    assert rst_to_markdown("Plain text, no reST.") == "Plain text, no reST."


def test_links_to_repository_files_are_published_and_broken_ones_fail(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "run.yaml").write_text("seed: 0\n")
    (tmp_path / "experiments" / "README.md").write_text("# Experiments\n\nSee [the guide](../docs/guide.md).\n")
    (tmp_path / "README.md").write_text("# Home\n\n[Guide](docs/guide.md), [experiments](experiments/README.md).\n")
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\nThe [config](../experiments/run.yaml).\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"site_name: t\nhooks:\n  - {HOOKS / 'repository_links.py'}\n")

    built = mkdocs_build(config, tmp_path / "site")
    assert built.returncode == 0, built.stderr
    site = tmp_path / "site"
    assert (site / "repository" / "experiments" / "run.yaml").read_text() == "seed: 0\n"
    assert 'href="../repository/experiments/run.yaml"' in (site / "guide" / "index.html").read_text()
    assert '<a href="../../guide/">the guide</a>' in (site / "repository" / "experiments" / "index.html").read_text()

    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\nThe [config](../experiments/missing.yaml).\n")
    broken = mkdocs_build(config, tmp_path / "site")
    assert broken.returncode != 0
    assert "../experiments/missing.yaml" in broken.stderr
