# social-care: one command for the demo, one for the tests (see README.md).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
# Where no local CPU wheel is on pip's find-links, point pip at PyTorch's CPU index, e.g.
# make test TORCH_PIP_ARGS="--index-url <pytorch-cpu-index>"
TORCH_PIP_ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-long lint browser clean

# torch first, alone, as the CPU build: with torch==2.13.0 already installed,
# transformers' `torch` requirement is satisfied and pip never resolves a CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/social-care demo

test: setup
	bash scripts/test.sh

test-long: setup
	SOCIAL_CARE_LONG=1 bash scripts/test.sh --long

lint: setup
	$(BIN)/python -m ruff check social_care connectors tests bench

clean:
	rm -rf $(VENV) data/*.db
