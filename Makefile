# The two commands of the quick start: `make chat` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test lint types pytest bench clean lock load

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

load: $(STAMP)  ## the web process under load on PostgreSQL, a worker killed, a restart (about 10 minutes)
	$(BIN)/python scripts/load.py --write

UV ?= uv

lock:  ## regenerate the pinned requirements.txt the Procfile platforms and the Dockerfile install (needs uv)
	$(UV) pip compile pyproject.toml --extra web --python-version 3.11 \
		--annotation-style line --custom-compile-command "make lock" -o requirements.txt
	echo "-e . # this project itself (editable: the knowledge folder stays beside the code)" \
		>> requirements.txt

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
