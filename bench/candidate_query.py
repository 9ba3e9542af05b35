"""Benchmark: a filtered candidate query on Qdrant Edge against a numpy brute-force scan.

    .venv/bin/python bench/candidate_query.py [--n 10000] [--queries 500] [--k 100] [--cache DIR]

The query is what stage 1 asks for a user: the 100 nearest titles to a taste vector (the mean of ten
titles the user has seen), leaving out the user's 200 seen titles and keeping one genre. Edge answers it
with HNSW plus its payload indexes; the brute force scores every vector with one matrix product and
applies the same filter with numpy masks (precomputed per genre, as a payload index would be).

Vectors: with --cache DIR, the real all-MiniLM-L6-v2 content vectors of the ml-latest-small titles
(embedded once, ~30 s, then read from DIR; the data set is found under --data-dir, MARQUEE_DATA_DIR, or
../shared/data), so N is at most the catalog size (9,742). Without it, N seeded random unit vectors of
dimension 384 with MovieLens-like genre frequencies: random vectors are the hardest case for HNSW, so
their recall is a floor, not what real embeddings get.

Prints figures only: build time, p50/p99 latency of each, their ratio, and Edge's recall@k.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from catalog import Title  # noqa: E402
from retrieval.edge_index import EdgeIndex  # noqa: E402
from retrieval.index import CONTENT, TitleFilter, TitlePoint  # noqa: E402

DIM = 384
# Share of ml-latest-small titles carrying each genre (rounded).
GENRE_FREQ = {
    "Drama": 0.45,
    "Comedy": 0.39,
    "Thriller": 0.20,
    "Action": 0.19,
    "Romance": 0.16,
    "Adventure": 0.13,
    "Crime": 0.13,
    "Sci-Fi": 0.10,
    "Horror": 0.10,
    "Fantasy": 0.08,
    "Children": 0.07,
    "Animation": 0.06,
    "Mystery": 0.06,
    "Documentary": 0.05,
    "War": 0.04,
    "Musical": 0.03,
    "Western": 0.02,
    "Film-Noir": 0.01,
}
QUERY_GENRES = ["Drama", "Comedy", "Thriller", "Action", "Romance", "Adventure", "Crime", "Sci-Fi", "Horror"]
_YEAR = re.compile(r"^(.*?)\s*\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$")


def real_catalog(data_dir: Path, cache: Path, n: int) -> tuple[np.ndarray, list[tuple[str, ...]], np.ndarray]:
    import pandas as pd

    from retrieval.embedder import TextEmbedder, embed_titles

    path = next(
        (p for p in (data_dir / "movielens" / "ml-latest-small", data_dir / "ml-latest-small") if p.is_dir()),
        None,
    )
    if path is None:
        sys.exit(f"ml-latest-small not found under {data_dir}")
    titles = []
    for movie_id, raw, genres in pd.read_csv(path / "movies.csv").itertuples(index=False, name=None):
        match = _YEAR.match(str(raw).strip())
        name, year = (match.group(1), int(match.group(2))) if match else (str(raw).strip(), None)
        genre_list = () if genres == "(no genres listed)" else tuple(str(genres).split("|"))
        titles.append(Title(id=int(movie_id), name=name, year=year, genres=genre_list))
    titles = titles[:n]
    vectors = embed_titles(TextEmbedder(), titles, cache)
    return np.array([t.id for t in titles], dtype=np.int64), [t.genres for t in titles], vectors


def random_catalog(n: int, seed: int) -> tuple[np.ndarray, list[tuple[str, ...]], np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    names = list(GENRE_FREQ)
    has = rng.random((n, len(names))) < np.array(list(GENRE_FREQ.values()))
    genres = [tuple(g for g, on in zip(names, row, strict=True) if on) for row in has]
    return np.arange(1, n + 1, dtype=np.int64), genres, vectors


def percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="titles in the index")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--seen", type=int, default=200, help="seen titles excluded per query")
    parser.add_argument("--cache", type=Path, help="embedding cache folder: use real MiniLM vectors")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ef", type=int, default=None, help="Edge HNSW search breadth (default: Qdrant's)")
    args = parser.parse_args()

    if args.cache is not None:
        data_dir = args.data_dir or Path(
            os.environ.get("MARQUEE_DATA_DIR", REPO_ROOT.parent / "shared" / "data")
        )
        ids, genres, vectors = real_catalog(data_dir, args.cache, args.n)
        source = "real all-MiniLM-L6-v2 vectors of ml-latest-small titles"
    else:
        ids, genres, vectors = random_catalog(args.n, args.seed)
        source = f"seeded random unit vectors (seed {args.seed})"
    n = len(ids)
    print(f"vectors       {n:,} x {vectors.shape[1]}, {source}")
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "unset (all cores)")
    print(f"numpy         OPENBLAS_NUM_THREADS={blas} (make bench sets 1)")
    print(f"query         k={args.k}, {args.seen} seen ids excluded, one genre, {args.queries} queries")

    # Each query: a taste vector from ten seen titles, the seen set, one genre.
    rng = np.random.default_rng(args.seed + 1)
    queries = []
    for _ in range(args.queries):
        seen_rows = rng.choice(n, size=min(args.seen, n - 1), replace=False)
        taste = vectors[seen_rows[:10]].mean(axis=0)
        taste /= np.linalg.norm(taste)
        queries.append((taste.astype(np.float32), seen_rows, str(rng.choice(QUERY_GENRES))))

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        index = EdgeIndex.create(Path(tmp) / "edge", {CONTENT: vectors.shape[1]}, hnsw_ef=args.ef)
        index.upsert(
            [
                TitlePoint(int(i), {CONTENT: v}, {"genres": list(g)})
                for i, g, v in zip(ids, genres, vectors, strict=True)
            ]
        )
        index.optimize()
        build_s = time.perf_counter() - started
        print(f"edge build    {build_s:.2f} s ({index.indexed_vectors_count():,} vectors in HNSW)")

        # The brute force: one matrix, one boolean column per genre, a row mask per query.
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        genre_mask = {g: np.array([g in gs for gs in genres], dtype=bool) for g in QUERY_GENRES}

        def brute(q: np.ndarray, seen_rows: np.ndarray, genre: str) -> np.ndarray:
            keep = genre_mask[genre].copy()
            keep[seen_rows] = False
            scores = unit @ q
            scores[~keep] = -np.inf
            k = min(args.k, int(keep.sum()))
            top = np.argpartition(-scores, k - 1)[:k] if k else np.empty(0, dtype=np.int64)
            return ids[top[np.argsort(-scores[top], kind="stable")]]

        def edge(q: np.ndarray, seen_rows: np.ndarray, genre: str) -> list[int]:
            where = TitleFilter(exclude_ids=frozenset(ids[seen_rows].tolist()), genres_any=(genre,))
            return [h.id for h in index.search(vector=CONTENT, query=q, k=args.k, where=where)]

        for q, seen_rows, genre in queries[:20]:  # warm up both
            brute(q, seen_rows, genre)
            edge(q, seen_rows, genre)

        edge_ms, brute_ms, found, total = [], [], 0, 0
        for q, seen_rows, genre in queries:
            t0 = time.perf_counter()
            got = edge(q, seen_rows, genre)
            t1 = time.perf_counter()
            exact = brute(q, seen_rows, genre)
            t2 = time.perf_counter()
            edge_ms.append((t1 - t0) * 1e3)
            brute_ms.append((t2 - t1) * 1e3)
            found += len(set(got) & set(exact.tolist()))
            total += len(exact)
        index.close()

    e50, e99 = percentiles(edge_ms)
    b50, b99 = percentiles(brute_ms)
    print(f"edge (HNSW)   p50 {e50:7.3f} ms   p99 {e99:7.3f} ms")
    print(f"numpy scan    p50 {b50:7.3f} ms   p99 {b99:7.3f} ms")
    print(f"ratio         numpy/edge p50 {b50 / e50:.2f}x   p99 {b99 / e99:.2f}x")
    print(f"recall@{args.k:<6} edge vs exact {found / total:.4f}")


if __name__ == "__main__":
    main()
