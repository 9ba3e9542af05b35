"""Load on the HTTP API: rows p50/p95/p99 and throughput at 1, 4 and 16 concurrent clients, mixed with
event posts, against `marquee serve` on 127.0.0.1 (started and stopped here). Prints figures only.

    .venv/bin/python bench/api_load.py [--requests 400] [--profiles 40] [--event-share 0.1]

Needs `marquee build` first. Traffic stays on loopback and every loop is bounded by a request count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(base: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("the API did not become ready")


async def setup(client: httpx.AsyncClient, profiles: int) -> tuple[dict[str, str], list[int]]:
    key = (await client.post("/v1/accounts", json={"name": "load"})).json()["api_key"]
    headers = {"X-API-Key": key}
    ids = [
        (await client.post("/v1/profiles", json={"name": f"p{i}"}, headers=headers)).json()["id"]
        for i in range(profiles)
    ]
    page = (await client.get(f"/v1/profiles/{ids[0]}/rows", headers=headers)).json()
    titles = [item["title_id"] for row in page["rows"] for item in row["items"]]
    return {"key": key, **{str(i): p for i, p in enumerate(ids)}}, titles


async def run(
    base: str,
    concurrency: int,
    requests: int,
    ids: list[str],
    key: str,
    titles: list[int],
    event_share: float,
) -> dict[str, float]:
    rng = random.Random(concurrency)
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            i = queue.get_nowait()
            profile = rng.choice(ids)
            if rng.random() < event_share:
                body = {
                    "events": [
                        {
                            "event_id": f"c{concurrency}-{i}",
                            "title_id": rng.choice(titles),
                            "kind": rng.choice(["play", "impression", "thumb_up"]),
                        }
                    ]
                }
                response = await client.post(f"/v1/profiles/{profile}/events", json=body)
                errors += response.status_code >= 400
                continue
            started = time.perf_counter()
            response = await client.get(f"/v1/profiles/{profile}/rows")
            latencies.append((time.perf_counter() - started) * 1000)
            errors += response.status_code >= 400

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "p50": float(np.percentile(latencies, 50)),
        "p95": float(np.percentile(latencies, 95)),
        "p99": float(np.percentile(latencies, 99)),
        "rps": requests / elapsed,
        "errors": errors,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--profiles", type=int, default=40)
    parser.add_argument("--event-share", type=float, default=0.1)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    marquee = Path(sys.executable).with_name("marquee")
    server = subprocess.Popen(
        [str(marquee), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MARQUEE_API__RATE_LIMIT_PER_MINUTE": "1000000"},
    )
    try:
        await wait_ready(base)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            made, titles = await setup(client, args.profiles)
        key = made.pop("key")
        ids = list(made.values())
        print(
            f"API load: {args.requests} requests per level, {args.profiles} profiles, "
            f"{args.event_share:.0%} event posts, uvicorn single process on 127.0.0.1"
        )
        for concurrency in (1, 4, 16):
            r = await run(base, concurrency, args.requests, ids, key, titles, args.event_share)
            print(
                f"  {concurrency:>2} clients: rows p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
                f"p99 {r['p99']:6.1f} ms  {r['rps']:6.1f} req/s  errors {int(r['errors'])}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
