"""Page-worker scratch folders: a server killed with -9 leaves its folder only until the next one starts."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from engine.scratch import ScratchFolder, sweep
from tests.conftest import REPO_ROOT

# Loads the module by its path: the engine package's imports would cost seconds.
HOLDER = """
import importlib.util, sys, time
from pathlib import Path
spec = importlib.util.spec_from_file_location("scratch", sys.argv[2])
scratch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scratch)
folder = scratch.ScratchFolder(Path(sys.argv[1]))
(folder.path / "shard-copy").write_bytes(b"x" * 4096)
print(folder.path, flush=True)
time.sleep(600)
"""


def _server(root: Path) -> tuple[subprocess.Popen[str], Path]:
    module = REPO_ROOT / "engine" / "scratch.py"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), str(module)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_servers_folder_is_swept_by_the_next_and_a_live_ones_kept(tmp_path: Path) -> None:
    root = tmp_path / "page-workers"
    dead, dead_folder = _server(root)
    live, live_folder = _server(root)
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait(10)
        dead.stdout.close()  # type: ignore[union-attr]
        assert (dead_folder / "shard-copy").is_file()  # what kill -9 leaves behind
        (root / "half-made").mkdir()  # a folder without its lock file: garbage too
        mine = ScratchFolder(root)
        assert not dead_folder.exists() and not (root / "half-made").exists()
        assert (live_folder / "shard-copy").is_file()  # a live server's folder stays
        assert sweep(root) == []
        mine.close()
        assert not mine.path.exists()
        assert sorted(p.name for p in root.iterdir()) == sorted(
            [live_folder.name, live_folder.name + ".lock"]
        )
    finally:
        live.kill()
        live.wait(10)
        live.stdout.close()  # type: ignore[union-attr]
    assert sweep(root) == [live_folder] and list(root.iterdir()) == []
    assert sweep(tmp_path / "never-made") == []
