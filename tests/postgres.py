"""A real PostgreSQL server for the tests: made with initdb in a temp folder, listening on a free loopback
port, stopped when the session ends. PostgreSQL refuses to run as root, so as root it runs as the
`postgres` system user that Debian's package makes."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg

USER = "marquee"
# The fixtures put a password in every URL (trust auth ignores it) so the tests can check it is never shown.
PASSWORD = "pg-secret-7f3a"


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: MARQUEE_PG_BIN, else the newest of Debian's PostgreSQL."""
    configured = os.environ.get("MARQUEE_PG_BIN")
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda b: _version(b.parent.name))
    candidates = [Path(configured)] if configured else installed[::-1]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(bin_dir: Path) -> Iterator[str]:
    """A running server for the session; yields the URL of its `postgres` database."""
    folder = Path(tempfile.mkdtemp(prefix="marquee-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError(
                "running as root and there is no `postgres` user to run PostgreSQL as"
            ) from None
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    try:
        subprocess.run(
            [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
             "--no-sync", "--no-instructions"],
            check=True, capture_output=True,
        )  # fmt: skip
        # No durability needed for a throwaway server: fsync off makes every commit cheap.
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "start", "-w", "-D", str(data), "-l", str(folder / "log"),
             "-o", options],
            check=True, capture_output=True,
        )  # fmt: skip
        try:
            yield f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*run_as, str(bin_dir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate"],
                check=False, capture_output=True,
            )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """The URL of a new, empty database on the server at `server_url`."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name
