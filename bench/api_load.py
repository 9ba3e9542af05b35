"""Load on the HTTP API: rows p50/p95/p99 and throughput at 1, 4 and 16 concurrent clients, mixed with
event posts, against `marquee serve` on 127.0.0.1 (started and stopped here). Prints figures only.

    .venv/bin/python bench/api_load.py [--requests 2000] [--profiles 200] [--event-share 0.1]
        [--impression-share 0.5] [--history 5] [--zipf 1.1] [--replicas 2]

With `--replicas N` every level is measured twice in the same run: against one server, then against N
servers on the same stores (the clients' connections spread round-robin over them), and the throughput
ratio is printed. Replicas share stores through MARQUEE_DATABASE_URL and MARQUEE_REDIS_URL (required);
the second and later servers serve copies of the Edge shard the first holds. On one machine the ratio is
bounded by its cores: read it with the CPU figures printed beside it.

Each client is a closed loop (the next request goes out when the last one is answered). A request is an
event post with probability --event-share (one event: an impression with probability --impression-share,
else a play or a thumbs up, which change the profile's history and so drop its cached page), otherwise a
rows request. Profiles are picked Zipf-like (--zipf; 0 = uniform), so some are read again and again, as
on a real service; each starts with --history finished titles. Latency is also split by the answer's
X-Cache header: hit (a cached page), miss (computed for this request), shared (computed by a concurrent
request for the same page). Event posts are timed too: one that changes a profile's history rebuilds its
cached pages before it is acknowledged, so it costs what a page does.

Needs `marquee build` first. Traffic stays on loopback and every loop is bounded by a request count.
The client runs on the same machine as the server and takes CPU from it: it speaks HTTP/1.1 over one
keep-alive connection per client with a few lines of asyncio (httpx costs about as much CPU per request
as the server spends on a cached page), and each level prints the CPU both sides used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

LEVELS = (1, 4, 16)


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads its whole answer."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self._address = (host, port)
        self._head = f"Host: {host}:{port}\r\nX-API-Key: {key}\r\n"

    async def __aenter__(self) -> Connection:
        self._reader, self._writer = await asyncio.open_connection(*self._address)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._writer.close()
        await self._writer.wait_closed()

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, dict[str, str]]:
        head = f"{method} {path} HTTP/1.1\r\n{self._head}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self._writer.write(head.encode() + b"\r\n" + (body or b""))
        status = int((await self._reader.readline()).split()[1])
        headers = {}
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while size := int((await self._reader.readline()).strip(), 16):
                await self._reader.readexactly(size + 2)
            await self._reader.readline()
        return status, headers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(base: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 600.0) -> None:
    # 180 s was too short for a server loading on a 2-core machine at load average 18.
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    tail = log.read_text(errors="replace").splitlines()[-15:]
    raise SystemExit("the API did not become ready; its log ends:\n" + "\n".join(tail))


async def setup(client: httpx.AsyncClient, profiles: int, history: int) -> tuple[str, list[str], list[int]]:
    key = (await client.post("/v1/accounts", json={"name": "load"})).json()["api_key"]
    client.headers["X-API-Key"] = key
    ids = [(await client.post("/v1/profiles", json={"name": f"p{i}"})).json()["id"] for i in range(profiles)]
    page = (await client.get(f"/v1/profiles/{ids[0]}/rows")).json()
    titles = sorted({item["title_id"] for row in page["rows"] for item in row["items"]})
    rng = random.Random(0)
    for n, profile in enumerate(ids):
        events = [
            {"event_id": f"seed-{n}-{j}", "title_id": t, "kind": "complete"}
            for j, t in enumerate(rng.sample(titles, min(history, len(titles))))
        ]
        if events:
            (await client.post(f"/v1/profiles/{profile}/events", json={"events": events})).raise_for_status()
    return key, ids, titles


def percentiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return f"p50 {p50:6.1f}  p95 {p95:6.1f}  p99 {p99:6.1f} ms"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its running children (its page workers), from
    Linux /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        # Children are listed per thread that started them (the pool starts its workers from a thread).
        children = [
            c for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()
        ]
    except FileNotFoundError:  # a process or thread that just exited
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


async def run(
    host: str,
    ports: list[int],
    servers: list[int],
    key: str,
    concurrency: int,
    args: argparse.Namespace,
    ids: list[str],
    titles: list[int],
    phase: str = "",
) -> float:
    """One concurrency level; prints its figures and returns its throughput (requests per second). Each
    `phase` draws its own requests and event ids, so a later phase replays nothing (a replayed event
    would be a duplicate, which changes no page)."""
    rng = random.Random(f"{phase}-{concurrency}")
    weights = [1.0 / (rank + 1) ** args.zipf for rank in range(len(ids))]
    latencies: list[float] = []
    by_cache: dict[str, list[float]] = {}
    posted: dict[bool, list[float]] = {}  # event post latencies: impressions (True) or history changes
    errors = posts = 0
    remaining = args.requests

    async def worker(port: int) -> None:
        nonlocal errors, posts, remaining
        async with Connection(host, port, key) as connection:
            while remaining > 0:
                remaining -= 1
                profile = rng.choices(ids, weights)[0]
                if rng.random() < args.event_share:
                    played = rng.choice(["play", "thumb_up"])
                    kind = "impression" if rng.random() < args.impression_share else played
                    event = {
                        "event_id": f"{phase}c{concurrency}-{remaining}",
                        "title_id": rng.choice(titles),
                        "kind": kind,
                    }
                    if kind == "impression":
                        event |= {"row": "top_picks", "artwork": "title_card"}
                    body = json.dumps({"events": [event]}).encode()
                    started = time.perf_counter()
                    status, _ = await connection.request("POST", f"/v1/profiles/{profile}/events", body)
                    posted.setdefault(kind == "impression", []).append((time.perf_counter() - started) * 1000)
                    errors += status >= 400
                    posts += 1
                    continue
                started = time.perf_counter()
                status, headers = await connection.request("GET", f"/v1/profiles/{profile}/rows")
                elapsed = (time.perf_counter() - started) * 1000
                latencies.append(elapsed)
                by_cache.setdefault(headers.get("x-cache", "?"), []).append(elapsed)
                errors += status >= 400

    def server_cpu_seconds() -> float:
        return sum(cpu_seconds(pid) for pid in servers)

    started, server_cpu, client_cpu = time.perf_counter(), server_cpu_seconds(), time.process_time()
    await asyncio.gather(*(worker(ports[n % len(ports)]) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    server_share = (server_cpu_seconds() - server_cpu) / elapsed
    client_share = (time.process_time() - client_cpu) / elapsed
    print(
        f"  {concurrency:>2} clients: rows {percentiles(latencies)}  {args.requests / elapsed:6.1f} req/s  "
        f"({len(latencies)} rows, {posts} event posts, errors {errors}; CPU: servers {server_share:.0%}, "
        f"client {client_share:.0%} of a core)"
    )
    throughput = args.requests / elapsed
    for outcome in ("hit", "miss", "shared"):
        found = by_cache.get(outcome, [])
        if found:
            share = len(found) / len(latencies)
            print(f"      {outcome:<6} {share:5.0%}  {percentiles(found)}")
    for impression, label in (
        (False, "posts that change the history (pages rebuilt)"),
        (True, "impressions"),
    ):
        if posted.get(impression):
            print(f"      events: {label}: {percentiles(posted[impression])}")
    return throughput


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per concurrency level")
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--event-share", type=float, default=0.1)
    parser.add_argument("--impression-share", type=float, default=0.5, help="of the event posts")
    parser.add_argument(
        "--history", type=int, default=5, help="titles each profile has finished at the start"
    )
    parser.add_argument("--zipf", type=float, default=1.1, help="profile popularity skew; 0 = uniform")
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--replicas", type=int, default=1, help="also measure this many servers on one store")
    parser.add_argument(
        "--server",
        default="{marquee} serve --port {port}",
        help="the command that serves the API ({marquee} and {port} filled in), e.g. another checkout's",
    )
    args = parser.parse_args()
    shared = [name for name in ("MARQUEE_DATABASE_URL", "MARQUEE_REDIS_URL") if not os.environ.get(name)]
    if args.replicas > 1 and shared:
        raise SystemExit(f"--replicas {args.replicas} needs shared stores: set {' and '.join(shared)}")
    ports = [free_port() for _ in range(args.replicas)]
    marquee = Path(sys.executable).with_name("marquee")
    with tempfile.TemporaryDirectory(prefix="marquee-load-") as state:
        env = {
            **os.environ,
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
            "MARQUEE_API__RATE_LIMIT_PER_MINUTE": "1000000",
            "MARQUEE_STATE_DIR": state,  # a fresh state folder (bandits, conversations), removed afterwards
        }
        servers: list[subprocess.Popen[bytes]] = []
        try:
            for n, port in enumerate(ports[:1]):
                command = shlex.split(args.server.format(marquee=marquee, port=port))
                servers.append(start(command, env, Path(state) / f"server-{n}.log"))
                await wait_ready(f"http://127.0.0.1:{port}", servers[-1], Path(state) / f"server-{n}.log")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=60) as client:
                key, ids, titles = await setup(client, args.profiles, args.history)
            print(
                f"API load: {args.requests} requests per level, {args.profiles} profiles (Zipf {args.zipf}, "
                f"{args.history} titles finished each), {args.event_share:.0%} event posts "
                f"({args.impression_share:.0%} impressions), uvicorn on 127.0.0.1 "
                f"(page workers: {os.environ.get('MARQUEE_PAGE_WORKERS', 'the serve default')}), "
                f"{os.cpu_count()} CPUs"
            )
            print("1 server:")
            one = [
                await run("127.0.0.1", ports[:1], [servers[0].pid], key, c, args, ids, titles)
                for c in args.levels
            ]
            if args.replicas > 1:
                # The first pass warmed the caches; the comparison is between two warm passes.
                print("1 server again (warm, new requests):")
                one = [
                    await run("127.0.0.1", ports[:1], [servers[0].pid], key, c, args, ids, titles, "again")
                    for c in args.levels
                ]
                for n, port in enumerate(ports[1:], start=1):
                    command = shlex.split(args.server.format(marquee=marquee, port=port))
                    servers.append(start(command, env, Path(state) / f"server-{n}.log"))
                    await wait_ready(f"http://127.0.0.1:{port}", servers[-1], Path(state) / f"server-{n}.log")
                print(f"{args.replicas} servers on the same PostgreSQL and Redis:")
                pids = [s.pid for s in servers]
                many = [
                    await run("127.0.0.1", ports, pids, key, c, args, ids, titles, "replicas")
                    for c in args.levels
                ]
                ratios = ", ".join(
                    f"{c} clients {m / o:.2f}x" for c, o, m in zip(args.levels, one, many, strict=True)
                )
                print(f"throughput, {args.replicas} servers / 1: {ratios}")
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
