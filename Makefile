# The two commands: `make run` (the local stack, in the foreground) and `make test`.
# Both call `make setup`, which installs everything and is quick when already done.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run test lint unit bench package clean

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/bin/coughcloud up

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup lint
	$(PY) -m pytest -q

unit: setup
	$(PY) -m pytest -q tests/unit -m "not slow"

package: setup
	bash scripts/package.sh

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf .local dist
