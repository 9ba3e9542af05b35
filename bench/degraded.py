"""Start-up and Qdrant-away figures against `marquee serve` (started and stopped here). Prints figures only.

    .venv/bin/python bench/degraded.py [--dataset ml-latest-small] [--requests 20]

Starts the server (`python -m api.shell`, what `marquee serve` runs after the CLI's imports) with
QDRANT_URL pointing at a closed local port whose URL carries credentials, then prints: seconds from
process start to the first /livez answer and to /readyz 200; the median and worst latency of rows,
search and chat (model marquee-offline) served degraded; and whether the credentials appear in any
answer or log line. Needs `marquee build` first (the artifacts are only read; state goes to a temporary
folder).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

SECRET = "hunter2"


def _port(bound: bool) -> tuple[int, socket.socket | None]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    if bound:
        return port, sock  # held, never listening: connections are refused
    sock.close()
    return port, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    qdrant, holder = _port(bound=True)
    port, _ = _port(bound=False)
    with tempfile.TemporaryDirectory() as state:
        log = Path(state) / "server.log"
        env = os.environ | {
            "QDRANT_URL": f"http://admin:{SECRET}@127.0.0.1:{qdrant}",
            "MARQUEE_STATE_DIR": state,
            "MARQUEE_API__DATASET": args.dataset,
        }
        command = [sys.executable, "-m", "api.shell", "--port", str(port), "--page-workers", "0"]
        url = f"http://127.0.0.1:{port}"
        # One probe client, made before the clock starts: making one per poll costs this process
        # tenths of a second on a loaded machine, which the server's figure should not carry.
        probe = httpx.Client(base_url=url)
        started = time.monotonic()
        with log.open("w") as out:
            proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        texts: list[str] = []
        try:
            livez = _until(lambda: probe.get("/livez", timeout=1).status_code == 200, started)
            ready = _until(lambda: probe.get("/readyz", timeout=5).status_code == 200, started)
            texts.append(httpx.get(f"{url}/readyz").text)
            key = httpx.post(f"{url}/v1/accounts", json={}).json()["api_key"]
            headers = {"X-API-Key": key}
            profile = httpx.post(f"{url}/v1/profiles", json={"name": "p"}, headers=headers).json()["id"]
            print(f"/livez answered {livez:.2f} s after process start; /readyz 200 after {ready:.1f} s")
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                for name, call in {
                    "rows": lambda: client.get(f"/v1/profiles/{profile}/rows"),
                    "search": lambda: client.get(f"/v1/profiles/{profile}/search", params={"q": "space"}),
                    "chat": lambda: client.post(
                        "/v1/chat/completions",
                        json={
                            "model": "marquee-offline",
                            "profile_id": profile,
                            "messages": [{"role": "user", "content": "a funny movie from the 90s"}],
                        },
                    ),
                }.items():
                    times, degraded = [], []
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        r = call()
                        times.append(time.perf_counter() - t0)
                        texts.append(r.text)
                        body = r.json()
                        degraded.append(body.get("degraded", body.get("marquee", {}).get("degraded")))
                        assert r.status_code == 200, r.text
                    median, worst = np.median(times) * 1000, max(times) * 1000
                    flags = sorted(set(map(str, degraded)))
                    print(f"{name:>6}: median {median:.0f} ms, worst {worst:.0f} ms; degraded flags {flags}")
        finally:
            probe.close()
            proc.terminate()
            proc.wait(60)
            if holder is not None:
                holder.close()
        leaked = [t for t in [*texts, log.read_text()] if SECRET in t]
        print(f"credentials in answers or log lines: {len(leaked)}")


def _until(ok: object, started: float) -> float:
    while True:
        try:
            if ok():  # type: ignore[operator]
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        if time.monotonic() - started > 600:
            raise SystemExit("server did not start")
        time.sleep(0.02)


if __name__ == "__main__":
    main()
