"""Benchmark: the batch side at catalog scale, on a synthetic catalog and interactions written in chunks.

    .venv/bin/python bench/scale.py [--titles 50000] [--profiles 200000] [--events 5000000] [--ratio 10]
                                    [--chunk 1000000] [--out DIR] [--queries 300]

Issue 14's full size is 100K titles, 1M profiles and 50M events. Every figure is printed twice, at the
requested size and at a reference `--ratio` times smaller in the same run, so read the ratios: the shared
2-core machine this was written on cannot fit the full size in minutes, and its absolute times move with load.

Generated (seeded): titles with MovieLens-like genre frequencies (bench/candidate_query.py) and Zipf(1.1)
popularity; profiles with log-normal activity; events (profile, title) drawn from both, written to
`events-NNN.npz` chunks of `--chunk` rows and read back chunk by chunk into one sparse matrix.

Prints, asserting nothing:
- ALS (implicit, CPU, Marquee's factors/regularization/alpha): seconds per iteration at both sizes, and
  a linear extrapolation to 50M events (ALS with conjugate gradient is linear in non-zeros). On a GPU the
  same model is `implicit.gpu.als.AlternatingLeastSquares` (CUDA wheels of implicit), not measured here.
- EASE's memory wall: its dense float64 Gram matrix and inverse are O(items²). Peak bytes per item² are
  measured with tracemalloc on two small fits, then the item count where a fit exceeds this machine's memory.
- Qdrant Edge: a filtered top-100 (200 seen titles excluded, one genre) p50/p99 at both catalog sizes.
- With --rows-titles A B: `Engine.rows()` p50/p99 (bench/rows.py) on two imported catalogs of A and B titles
  with the same profiles and events (`marquee data import` + `marquee build` of each, in a temp folder;
  minutes each: the build embeds every title and trains the ranker).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from candidate_query import QUERY_GENRES, random_catalog  # noqa: E402  (bench/ is on sys.path[0])
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from engine import Settings  # noqa: E402
from retrieval.ease import ease_weights  # noqa: E402
from retrieval.edge_index import EdgeIndex  # noqa: E402
from retrieval.index import CONTENT, TitleFilter, TitlePoint  # noqa: E402

FULL = {"titles": 100_000, "profiles": 1_000_000, "events": 50_000_000}
ZIPF = 1.1


def zipf_popularity(titles: int, rng: np.random.Generator) -> np.ndarray:
    """Each title's share of plays, Zipf(1.1) by rank, the popular titles spread over the id range."""
    popularity = 1.0 / np.arange(1, titles + 1) ** ZIPF
    popularity = popularity[rng.permutation(titles)]
    return popularity / popularity.sum()


def write_events(folder: Path, titles: int, profiles: int, events: int, chunk: int, seed: int) -> int:
    """Events as (profile, title) chunks on disk; returns the number of chunks."""
    rng = np.random.default_rng(seed)
    popularity = zipf_popularity(titles, rng)
    activity = rng.lognormal(0.0, 1.0, profiles)
    activity /= activity.sum()
    chunks = 0
    for start in range(0, events, chunk):
        n = min(chunk, events - start)
        users = rng.choice(profiles, size=n, p=activity).astype(np.int32)
        items = rng.choice(titles, size=n, p=popularity).astype(np.int32)
        np.savez(folder / f"events-{chunks:03d}.npz", users=users, items=items)
        chunks += 1
    return chunks


def read_matrix(folder: Path, profiles: int, titles: int) -> sp.csr_matrix:
    """Sum the chunks into one profile x title matrix of play counts, a chunk at a time."""
    matrix = sp.csr_matrix((profiles, titles), dtype=np.float32)
    for path in sorted(folder.glob("events-*.npz")):
        with np.load(path) as chunk:
            users, items = chunk["users"], chunk["items"]
        ones = np.ones(len(users), dtype=np.float32)
        matrix = matrix + sp.csr_matrix((ones, (users, items)), shape=(profiles, titles))
    matrix.sum_duplicates()
    return matrix


def als_seconds_per_iteration(matrix: sp.csr_matrix, iterations: int) -> float:
    config = Settings().als
    model = AlternatingLeastSquares(
        factors=config.factors,
        regularization=config.regularization,
        alpha=config.alpha,
        iterations=iterations,
        random_state=config.seed,
    )
    seconds: list[float] = []
    last = [time.perf_counter()]

    def tick(iteration: int, elapsed: float, loss: float) -> None:
        now = time.perf_counter()
        seconds.append(now - last[0])
        last[0] = now

    with threadpool_limits(1, "blas"):
        model.fit(matrix, show_progress=False, callback=tick)
    return float(np.median(seconds))


def ease_peak_bytes(items: int, seed: int) -> int:
    """tracemalloc's peak (numpy reports its buffers to it) over one EASE fit on `items` titles."""
    rng = np.random.default_rng(seed)
    users = items * 4
    nnz = users * 20
    X = sp.csr_matrix(
        (np.ones(nnz, np.float32), (rng.integers(0, users, nnz), rng.integers(0, items, nnz))),
        shape=(users, items),
    )
    X.data[:] = 1.0
    tracemalloc.start()
    tracemalloc.reset_peak()
    ease_weights(X, 500.0, threads=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def memory_bytes() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def edge_filtered_p99(titles: int, queries: int, seed: int) -> tuple[float, int, float, float]:
    """Build an Edge index of `titles` random unit vectors; (build s, vectors in HNSW, p50 ms, p99 ms) of
    filtered top-100 queries."""
    ids, genres, vectors = random_catalog(titles, seed)
    rng = np.random.default_rng(seed + 1)
    asks = []
    for _ in range(queries):
        seen = rng.choice(titles, size=200, replace=False)
        taste = vectors[seen[:10]].mean(axis=0)
        asks.append(
            (taste / np.linalg.norm(taste), frozenset(ids[seen].tolist()), str(rng.choice(QUERY_GENRES)))
        )
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        index = EdgeIndex.create(Path(tmp) / "edge", {CONTENT: vectors.shape[1]})
        for start in range(0, titles, 10_000):  # upserts in chunks, as a build of a large catalog would
            index.upsert(
                [
                    TitlePoint(int(ids[i]), {CONTENT: vectors[i]}, {"genres": list(genres[i])})
                    for i in range(start, min(start + 10_000, titles))
                ]
            )
        index.optimize()
        build_s = time.perf_counter() - started
        in_hnsw = index.indexed_vectors_count()
        ms = []
        for i, (taste, seen_ids, genre) in enumerate(asks):
            t0 = time.perf_counter()
            index.search(
                vector=CONTENT,
                query=taste,
                k=100,
                where=TitleFilter(exclude_ids=seen_ids, genres_any=(genre,)),
            )
            if i >= 20:  # the first 20 warm up
                ms.append((time.perf_counter() - t0) * 1e3)
        index.close()
    return build_s, in_hnsw, float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def step(command: list[str], env: dict[str, str]) -> str:
    """Run one command; its stdout, or exit with the command and the end of its output."""
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


def build_catalog(
    titles: int, profiles: int, events: int, folder: Path, seed: int
) -> tuple[str, dict[str, str], float]:
    """Import and build a synthetic catalog of `titles` under `folder`: (data set name, its env, seconds).
    A folder this already built (its `built` mark) is reused as it is: 0 seconds."""
    name = f"scale-{titles}"
    env = {
        **os.environ,
        "MARQUEE_DATA_DIR": str(folder / "data"),
        "MARQUEE_ARTIFACTS_DIR": str(folder / "artifacts"),
        "MARQUEE_STATE_DIR": str(folder / "state"),
    }
    if (folder / "built").is_file():
        return name, env, 0.0
    _, genres, _ = random_catalog(titles, seed)
    rng = np.random.default_rng(seed)
    popularity = zipf_popularity(titles, rng)
    folder.mkdir(parents=True)
    with (folder / "titles.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "name", "year", "genres"])
        for i, title_genres in enumerate(genres):
            out.writerow([i + 1, f"Title {i + 1}", 1950 + i % 75, "|".join(title_genres)])
    with (folder / "interactions.csv").open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["user", "title", "rating", "timestamp"])
        users = rng.integers(0, profiles, events)
        items = rng.choice(titles, size=events, p=popularity) + 1
        stamps = 1_600_000_000 + rng.integers(0, 365 * 86_400, events)
        ratings = rng.integers(1, 11, events) / 2
        out.writerows(zip(users.tolist(), items.tolist(), ratings.tolist(), stamps.tolist(), strict=True))
    marquee = str(Path(sys.executable).with_name("marquee"))
    (folder / "data").mkdir()
    started = time.perf_counter()
    step(
        [marquee, "data", "import", "--name", name, "--titles", str(folder / "titles.csv")]
        + ["--interactions", str(folder / "interactions.csv")],
        env,
    )
    step([marquee, "build", "--dataset", name], env)
    (folder / "built").write_text(f"{profiles} profiles, {events} events, seed {seed}\n")
    return name, env, time.perf_counter() - started


def rows_latency(name: str, env: dict[str, str]) -> tuple[float, float, float, float]:
    """bench/rows.py on a built data set: wall (p50, p99) and CPU (p50, p99) ms per request."""
    printed = step([sys.executable, str(Path(__file__).with_name("rows.py")), "--dataset", name], env)
    found = re.search(
        r"latency p50 ([\d.]+) ms\s+p99 ([\d.]+) ms\s+cpu\s+p50 ([\d.]+) ms\s+p99 ([\d.]+) ms", printed
    )
    if found is None:
        raise RuntimeError(f"bench/rows.py printed no latency:\n{printed}")
    p50, p99, cpu50, cpu99 = (float(g) for g in found.groups())
    return p50, p99, cpu50, cpu99


def batch_figures(args: argparse.Namespace) -> None:
    """ALS, EASE's memory and Qdrant Edge at the requested size and the reference, as ratios."""
    big = {"titles": args.titles, "profiles": args.profiles, "events": args.events}
    ref = {k: max(1, v // args.ratio) for k, v in big.items()}
    shares = ", ".join(f"{k} {big[k] / FULL[k]:.1%}" for k in FULL)
    print(f"size          {big['titles']:,} titles, {big['profiles']:,} profiles, {big['events']:,} events")
    print(f"              (of issue 14's full size: {shares}); reference 1/{args.ratio} of each")
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    print(
        f"machine       {os.cpu_count()} cores, {memory_bytes() / 2**30:.1f} GiB, OPENBLAS_NUM_THREADS={blas}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        per_size: dict[str, dict[str, float]] = {}
        for label, size in (("reference", ref), ("requested", big)):
            folder = (args.out or Path(tmp)) / label
            folder.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            chunks = write_events(
                folder, size["titles"], size["profiles"], size["events"], args.chunk, args.seed
            )
            t1 = time.perf_counter()
            matrix = read_matrix(folder, size["profiles"], size["titles"])
            t2 = time.perf_counter()
            disk = sum(p.stat().st_size for p in folder.glob("events-*.npz"))
            print(
                f"{label:<13} generated {chunks} chunk(s), {disk / 2**20:.0f} MiB, in {t1 - t0:.1f} s; "
                f"matrix {matrix.shape[0]:,} x {matrix.shape[1]:,}, {matrix.nnz:,} non-zeros, "
                f"read in {t2 - t1:.1f} s"
            )
            per_size[label] = {"nnz": matrix.nnz, "als": als_seconds_per_iteration(matrix, args.iterations)}
            del matrix

    r, b = per_size["reference"], per_size["requested"]
    factors = Settings().als.factors
    print(
        f"\nALS (implicit CPU, {factors} factors, conjugate gradient), "
        f"median s/iteration of {args.iterations}:"
    )
    print(f"  reference   {r['als']:8.3f} s  ({r['nnz']:,} non-zeros)")
    print(f"  requested   {b['als']:8.3f} s  ({b['nnz']:,} non-zeros)")
    print(f"  ratio       {b['als'] / r['als']:.2f}x time for {b['nnz'] / r['nnz']:.2f}x non-zeros")
    full_iterations = Settings().als.iterations
    full_nnz = b["nnz"] * FULL["events"] / big["events"]  # repeats merge, so non-zeros grow a little slower
    # Two extrapolations from the requested size: linear in non-zeros (CG's cost per non-zero), and with the
    # growth exponent measured between the two sizes (the per-row terms grow with profiles and titles).
    exponent = np.log(b["als"] / r["als"]) / np.log(b["nnz"] / r["nnz"])
    for name, seconds in (
        ("linear", b["als"] * full_nnz / b["nnz"]),
        (f"exponent {exponent:.2f}", b["als"] * (full_nnz / b["nnz"]) ** exponent),
    ):
        print(
            f"  at 50M events (~{full_nnz / 1e6:.0f}M non-zeros, {name}, extrapolated): "
            f"~{seconds:.0f} s/iteration, "
            f"~{seconds * full_iterations / 60:.0f} min for {full_iterations} iterations on this CPU"
        )

    small, large = args.ease_items
    peaks = {n: ease_peak_bytes(n, args.seed) for n in (small, large)}
    per_item2 = peaks[large] / large**2
    wall = int((memory_bytes() / per_item2) ** 0.5)
    print("\nEASE memory (dense Gram + inverse, float64), tracemalloc peak of one fit:")
    for n, peak in peaks.items():
        print(f"  {n:>7,} items  {peak / 2**20:8.1f} MiB  ({peak / n**2:.1f} bytes per item²)")
    print(f"  ratio       {peaks[large] / peaks[small]:.2f}x memory for {large / small:.1f}x items")
    for n in sorted({10_000, 20_000, ref["titles"], big["titles"], FULL["titles"]}):
        print(f"  at {n:>7,} items: {per_item2 * n**2 / 2**30:8.1f} GiB (extrapolated)")
    print(
        f"  wall        ~{wall:,} items exceed this machine's {memory_bytes() / 2**30:.0f} GiB; "
        "past it, item-kNN (top-k neighbours of the sparse co-occurrence, O(non-zeros)) "
        "or a sparse approximation replaces it"
    )

    print(f"\nQdrant Edge filtered top-100 (200 seen excluded + one genre), {args.queries - 20} queries:")
    edge = {}
    for label, n in (("reference", ref["titles"]), ("requested", big["titles"])):
        build_s, in_hnsw, p50, p99 = edge_filtered_p99(n, args.queries, args.seed)
        edge[label] = p99
        print(
            f"  {n:>7,} titles  build {build_s:6.1f} s ({in_hnsw:,} in HNSW)  "
            f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
        )
    print(f"  ratio       p99 {edge['requested'] / edge['reference']:.2f}x for {args.ratio}x titles")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--titles", type=int, default=50_000)
    parser.add_argument("--profiles", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--ratio", type=int, default=10, help="the reference is this many times smaller")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="events per chunk file")
    parser.add_argument("--iterations", type=int, default=4, help="ALS iterations timed (median printed)")
    parser.add_argument("--queries", type=int, default=300, help="Edge queries per size")
    parser.add_argument("--ease-items", type=int, nargs=2, default=(1_000, 2_000), metavar=("SMALL", "LARGE"))
    parser.add_argument(
        "--out", type=Path, default=None, help="keep the chunks here (default: a temp folder)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows-titles", type=int, nargs=2, metavar=("SMALL", "LARGE"), help="off by default")
    parser.add_argument("--rows-profiles", type=int, default=2_000)
    parser.add_argument("--rows-events", type=int, default=100_000)
    parser.add_argument("--rows-rounds", type=int, default=3, help="alternating rows() runs per catalog")
    parser.add_argument(
        "--rows-dir", type=Path, default=None, help="build the catalogs here and keep them (reused if built)"
    )
    parser.add_argument("--rows-only", action="store_true", help="only the rows() pair (--rows-titles)")
    args = parser.parse_args()

    if not args.rows_only:
        batch_figures(args)

    if args.rows_titles:
        small_t, large_t = args.rows_titles
        print(
            f"\nEngine.rows() (bench/rows.py defaults), same {args.rows_profiles:,} profiles and "
            f"{args.rows_events:,} events, two catalogs:"
        )
        with tempfile.TemporaryDirectory() as tmp:
            built = {}
            for n in (small_t, large_t):
                name, env, seconds = build_catalog(
                    n, args.rows_profiles, args.rows_events, (args.rows_dir or Path(tmp)) / str(n), args.seed
                )
                built[n] = (name, env)
                done = f"import + build {seconds:5.0f} s" if seconds else f"built before, in {args.rows_dir}"
                print(f"  {n:>7,} titles  {done}")
            # Measured alternately, so load from other jobs on a shared machine falls on both sizes.
            p99s: dict[int, list[float]] = {small_t: [], large_t: []}
            cpu99s: dict[int, list[float]] = {small_t: [], large_t: []}
            for round_ in range(args.rows_rounds):
                for n in (small_t, large_t):
                    p50, p99, cpu50, cpu99 = rows_latency(*built[n])
                    p99s[n].append(p99)
                    cpu99s[n].append(cpu99)
                    print(
                        f"  {n:>7,} titles  round {round_ + 1}  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                        f"(CPU p50 {cpu50:6.1f} ms  p99 {cpu99:6.1f} ms)"
                    )
        for label, found in (("p99", p99s), ("CPU p99", cpu99s)):
            ratio = np.median(found[large_t]) / np.median(found[small_t])
            print(f"  ratio       median {label} {ratio:.2f}x for {large_t / small_t:.1f}x titles")


if __name__ == "__main__":
    main()
