"""Latency of `Engine.rows()` on built artifacts: p50/p99 per request and the share of time per stage.

    .venv/bin/python bench/rows.py [--dataset ml-latest-small] [--requests 200] [--candidates 1000]

Needs `marquee build` first. Single process, one request at a time; prints figures, asserts nothing. The
CPU time per request (this process, every thread) is printed beside the wall time: on a shared machine it
moves far less with other jobs' load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from engine import Settings, assemble, freeze_loaded  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=1000, help="merged candidates the ranker scores")
    args = parser.parse_args()
    settings = Settings()
    settings.ranker = settings.ranker.model_copy(
        update={"candidates": args.candidates, "candidates_per_source": max(200, args.candidates // 4)}
    )
    engine = assemble(settings, args.dataset)
    users = sorted(engine.interactions().user_ids().tolist())
    rng = np.random.default_rng(0)
    picks = rng.choice(users, size=args.requests, replace=True)
    for user in picks[:5]:  # warm caches, JIT-free but first calls touch cold pages
        engine.rows(engine.context_for(int(user)))
    freeze_loaded()  # as the server and its page workers do once loaded
    latencies, cpu_ms, stages, sizes, shapes = [], [], {}, [], []
    for user in picks:
        context = engine.context_for(int(user))
        started, cpu = time.perf_counter(), time.process_time()
        rows = engine.rows(context)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((time.process_time() - cpu) * 1000)
        for name, ms in rows.timings.items():
            stages.setdefault(name, []).append(ms)
        sizes.append(len(engine.candidates(context)))
        shapes.append((len(rows), max((len(r.items) for r in rows), default=0)))
    total = sum(statistics.fmean(v) for v in stages.values())
    print(f"rows() on {args.dataset}: {args.requests} requests, {engine.health().ranker}")
    print(f"  candidates ranked per request: mean {statistics.fmean(sizes):.0f}, min {min(sizes)}")
    print(
        f"  rows per page: mean {statistics.fmean(s[0] for s in shapes):.1f}, "
        f"longest row {max(s[1] for s in shapes)} titles"
    )
    print(f"  latency p50 {np.percentile(latencies, 50):.1f} ms   p99 {np.percentile(latencies, 99):.1f} ms")
    print(f"  cpu     p50 {np.percentile(cpu_ms, 50):.1f} ms   p99 {np.percentile(cpu_ms, 99):.1f} ms")
    for name, values in stages.items():
        mean = statistics.fmean(values)
        print(f"  {name:<11} mean {mean:6.1f} ms  ({100 * mean / total:4.1f}% of the time)")
    engine.close()


if __name__ == "__main__":
    main()
