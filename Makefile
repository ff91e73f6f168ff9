# Two commands for a fresh machine: `make demo` (the main job) and `make test` (the test suite).
# Both create or reuse the project's virtual environment in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format clean cuda-check

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/senet train

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# The GPU check (issue 17, docs/speed.md "On a GPU"): the machine's own Python and torch, no
# virtual environment (GPU images come with torch and have no network). DRY=1: tiny, on the CPU.
CHECK_PYTHON ?= python3
OUT ?= cuda-check
cuda-check:
	PYTHONPATH=. $(CHECK_PYTHON) benchmarks/cuda_check.py --out $(OUT) $(if $(DRY),--dry-run)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
