# The two commands of the quick start: `make chat` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test lint types pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(STAMP)

chat: $(STAMP)  ## talk to the bot in this terminal, on the bundled knowledge
	$(BIN)/charterbot chat

test: lint types pytest  ## everything CI runs

lint: $(STAMP)
	$(BIN)/ruff check bot adapters tests scripts

types: $(STAMP)
	$(BIN)/mypy bot adapters

pytest: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)  ## rewrite BENCHMARKS.md
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
