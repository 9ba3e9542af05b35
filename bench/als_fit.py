"""Time ALS fitting through Marquee (ALSModel.fit, matrix building included) against calling
`implicit` directly on the same CSR matrix. Prints p50/p99 and the ratio; asserts nothing.

    .venv/bin/python bench/als_fit.py [--dataset ml-latest-small] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from catalog import load_dataset  # noqa: E402
from engine import Settings  # noqa: E402
from retrieval import ALSModel  # noqa: E402


def timed(fn, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(ms: list[float]) -> str:
    return f"p50 {statistics.median(ms):8.1f} ms   p99 {np.percentile(ms, 99):8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    interactions = load_dataset(args.dataset, Settings().data_dir).interactions
    config = Settings().als
    # The exact matrix our fit trains on (weighting and recency decay included), for implicit directly.
    matrix = ALSModel.fit(interactions, config).matrix(interactions).csr

    def direct() -> None:
        with threadpool_limits(1, "blas"):
            AlternatingLeastSquares(
                factors=config.factors,
                regularization=config.regularization,
                alpha=config.alpha,
                iterations=config.iterations,
                random_state=config.seed,
            ).fit(matrix, show_progress=False)

    ours = timed(lambda: ALSModel.fit(interactions, config), args.repeats)
    ref = timed(direct, args.repeats)
    print(
        f"ALS fit on {args.dataset}: {matrix.shape[0]} users x {matrix.shape[1]} items, "
        f"{matrix.nnz} non-zeros, {config.factors} factors, {config.iterations} iterations, "
        f"{args.repeats} runs"
    )
    print(f"  implicit directly      {summary(ref)}")
    print(f"  marquee ALSModel.fit   {summary(ours)}   (includes building the CSR matrix)")
    print(f"  ratio marquee/implicit p50 {statistics.median(ours) / statistics.median(ref):.2f}x")


if __name__ == "__main__":
    main()
