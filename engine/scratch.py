"""Scratch folders of serving processes (the page workers' copies of the Edge shard), one per server under
a shared root, that a server killed with -9 cannot leave behind for long: the next server to start sweeps
every folder whose server is gone.

A server holds an exclusive lock (flock) on `<name>.lock` beside its folder for as long as it lives; the
kernel releases it however the process ends. A sweep removes each folder whose lock it can take, and any
folder with no lock file at all (a lock is made before its folder and removed after it).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger("marquee.pages")
LOCK_SUFFIX = ".lock"


class ScratchFolder:
    """This server's folder under `root`, made (after a sweep of dead servers' folders) on construction."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        sweep(root)
        fd, lock = tempfile.mkstemp(dir=root, prefix=f"{os.getpid()}-", suffix=LOCK_SUFFIX)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new and unique: nobody else can hold it
        self._fd: int | None = fd
        self._lock = Path(lock)
        self.path = self._lock.with_suffix("")
        self.path.mkdir()

    def close(self) -> None:
        """Remove the folder, then the lock (in that order: a folder without a lock is garbage)."""
        if self._fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        self._lock.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def sweep(root: Path) -> list[Path]:
    """Remove the folders under `root` of servers that are gone; the removed folders."""
    if not root.is_dir():
        return []
    removed = []
    for lock in sorted(root.glob("*" + LOCK_SUFFIX)):
        try:
            fd = os.open(lock, os.O_RDWR)
        except FileNotFoundError:
            continue  # its server closed meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live server's
        else:
            folder = lock.with_suffix("")
            shutil.rmtree(folder, ignore_errors=True)
            lock.unlink(missing_ok=True)
            removed.append(folder)
        finally:
            os.close(fd)
    locks = {p.with_suffix("") for p in root.glob("*" + LOCK_SUFFIX)}
    for folder in root.iterdir():
        if folder.is_dir() and folder not in locks:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed %d page-worker folders of servers that are gone", len(removed))
    return removed
