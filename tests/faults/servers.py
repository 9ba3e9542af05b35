"""Real `marquee serve` processes for the process-level tiers: started on free loopback ports, waited for
until ready, terminated after."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from engine import Settings
from tests.conftest import REPO_ROOT


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    livez_s: float  # from process start to the first /livez answer
    loading_when_live: bool  # /readyz said "loading" when /livez first answered


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    settings: Settings, state: Path, *, page_workers: int = 0, extra_env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    port = _free_port()
    env = os.environ | {
        "PYTHONPATH": str(REPO_ROOT),
        "MARQUEE_DATA_DIR": str(settings.data_dir),
        "MARQUEE_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "MARQUEE_STATE_DIR": str(state),
        "MARQUEE_API__ANONYMOUS_PER_MINUTE": "100000",
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "engine.cli", "serve", "--port", str(port)]
    started = time.monotonic()
    proc = subprocess.Popen(
        [*command, "--page-workers", str(page_workers)],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        livez = None
        while livez is None:
            assert proc.poll() is None and time.monotonic() - started < 120, "server did not start"
            try:
                if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                    livez = time.monotonic() - started
            except httpx.TransportError:
                time.sleep(0.05)
        # Generous timeouts: the load competes for the CPU with the answers (and, in CI, with other jobs).
        loading = "loading" in (httpx.get(f"{url}/readyz", timeout=60).json().get("reason") or "")
        while httpx.get(f"{url}/readyz", timeout=60).status_code != 200:
            assert proc.poll() is None and time.monotonic() - started < 900, "server never ready"
            time.sleep(0.2)
        yield Server(proc, url, livez, loading)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(300)


def signup(url: str) -> tuple[dict[str, str], str]:
    key = httpx.post(f"{url}/v1/accounts", json={}).json()["api_key"]
    headers = {"X-API-Key": key}
    profile = httpx.post(f"{url}/v1/profiles", json={"name": "p"}, headers=headers).json()["id"]
    return headers, profile
