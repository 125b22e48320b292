# Two commands on a fresh clone: `make run` (set up, run the pipeline on the embedded default) and
# `make test` (set up, run the suite). Both create .venv and install the package from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Prefect's telemetry cannot reach the internet at air-gapped sites; without this it logs an ERROR.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test setup clean browser

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/reviewpipe run

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The report's browser test drives Debian's chromium; install it when we can, never fail without it.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; } || \
		echo "chromium is not installed: the report's browser test will be skipped"

clean:
	rm -rf data/warehouse.duckdb* data/reports.duckdb* data/exports data/samples
