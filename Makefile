# The two commands: `make run` (the local stack, in the foreground) and `make test`
# (lint, every test, the docs site built with --strict).
# Both call `make setup`, which installs everything and is quick when already done.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run test lint unit docs bench package clean

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/bin/coughcloud up

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup lint docs
	$(PY) -m pytest -q

# The site, into .local/site/: a broken link, a missing page or a figure not in bench/results/ fails
# (not --quiet: it hides the warnings that --strict counts).
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

unit: setup
	$(PY) -m pytest -q tests/unit -m "not slow"

package: setup
	bash scripts/package.sh

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf .local dist
