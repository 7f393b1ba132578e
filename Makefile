# splake developer entry points. `make demo` and `make test` are the README quickstart.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: setup demo test lint typecheck unit bench fuzz clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,infra,fuzz,test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

## Run the whole pipeline against the local SP-API sandbox into ./splake-demo
demo: setup
	$(BIN)/splake demo --dir ./splake-demo

lint: setup
	$(BIN)/ruff format --check src tests bench infra fuzz
	$(BIN)/ruff check src tests bench infra fuzz

typecheck: setup
	$(BIN)/mypy

## Lint, type-check and run the default test suite (what CI runs)
test: export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1
test: lint typecheck
	$(BIN)/pytest -m "not slow" -q -p no:cacheprovider

bench: setup
	$(BIN)/pip install -q -e '.[dev,infra,fuzz,test,bench]'
	$(BIN)/python -m bench

## Fuzz the flat-file parser for 60 s (atheris; falls back to hypothesis when atheris is missing)
fuzz: setup
	-$(BIN)/pip install -q -e '.[fuzz]'
	$(BIN)/python -m fuzz --seconds 60

clean:
	rm -rf $(VENV) splake-demo .pytest_cache .mypy_cache .ruff_cache
