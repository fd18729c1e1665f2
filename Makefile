# Two entry points for a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench lint schema clean

demo: $(VENV)/.installed
	$(BIN)/python -m tools.demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check newsbot tests tools
	$(BIN)/python -m pytest

# Accuracy against generic extractors, speed against trafilatura, end-to-end throughput and memory (2-4 min).
bench: $(VENV)/.installed-bench
	$(BIN)/python -m tools.bench

lint: $(VENV)/.installed-test
	$(BIN)/ruff check newsbot tests tools

# Rewrite the shipped JSON Schema and Arrow schema (the Parquet columns) after changing newsbot/items.py.
schema: $(VENV)/.installed
	$(BIN)/python -m newsbot.schema

# The machine's pip is too old for trafilatura's dependencies: upgrade it inside the venv first.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) output/*.jsonl output/*.log output/*/ .pytest_cache .ruff_cache
