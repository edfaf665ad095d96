# Two commands do all the set-up on a fresh machine:
#   make demo   creates/updates .venv, then trains the digits example
#   make test   creates/updates .venv, then runs the test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU wheel of torch: from a local wheel folder when the machine has one, else
# from PyTorch's CPU index (never PyPI's default CUDA build).
WHEELS ?= /opt/wheels
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench circuits docs clean-venv

$(STAMP): pyproject.toml constraints/cpu.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	if [ -d $(WHEELS) ]; then \
	  $(PY) -m pip install --quiet --find-links $(WHEELS) -c constraints/cpu.txt torch; \
	else \
	  $(PY) -m pip install --quiet --index-url $(TORCH_CPU_INDEX) -c constraints/cpu.txt torch; \
	fi
	$(PY) -m pip install --quiet -c constraints/cpu.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/qmtl train experiments/configs/digits.yaml --out runs/digits-demo --force

# Lint first: it takes seconds, and a failure should not wait for the suite.
test: $(STAMP)
	$(VENV)/bin/ruff check qmtl tests experiments
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# The documentation site (mkdocs.yml) into site/, strict: a broken link or docstring fails it.
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

bench: $(STAMP)
	for script in experiments/benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
