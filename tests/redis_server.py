"""A real Redis server for the tests: `redis-server` in a temp folder on a free loopback port, without
persistence, stopped when the session ends. It asks for a password, so tests can check it is never shown."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.postgres import free_port

PASSWORD = "redis-secret-4c1e"


def binary() -> str | None:
    """MARQUEE_REDIS_SERVER, else `redis-server` on the PATH or where Debian puts it."""
    configured = os.environ.get("MARQUEE_REDIS_SERVER")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )


@contextmanager
def server(path: str) -> Iterator[str]:
    """A running server for the session; yields its URL (database 0, with the password)."""
    folder = Path(tempfile.mkdtemp(prefix="marquee-redis-"))
    port = free_port()
    process = subprocess.Popen(
        [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder), "--requirepass", PASSWORD],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
