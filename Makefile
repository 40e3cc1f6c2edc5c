# Two commands do everything on a fresh machine:
#   make run   - set up .venv if missing, then open the explorer on a bundled sample
#   make test  - set up .venv if missing, then lint, format-check and run the tests
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: the CPU wheel on disk (a bare "torch" pulls a multi-GB CUDA build)
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fima-explorer --task deblur

test: $(STAMP)
	$(BIN)/ruff check core gui tests benchmarks tools
	$(BIN)/ruff format --check core gui tests benchmarks tools
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff format core gui tests benchmarks tools
	$(BIN)/ruff check --fix core gui tests benchmarks tools

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py

clean:
	rm -rf $(VENV) .venv-wheeltest .venv-wheeltest.lock .pytest_cache .ruff_cache
