"""`python -m ui.launch`: the API and the UI together, as `make demo` runs them.

Starts `marquee serve` and `marquee ui`, waits until both answer, prints both addresses, and stops
both on Ctrl-C or SIGTERM (or when either one exits). Only the commands are shared with the rest of
Marquee, never its modules: the UI stays an HTTP client.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import httpx

STOP_GRACE_S = 15.0


def marquee() -> str:
    """The `marquee` script of this interpreter's environment."""
    return str(Path(sys.executable).with_name("marquee"))


def wait_until_up(url: str, procs: list[subprocess.Popen[bytes]], timeout_s: float) -> bool:
    """Poll `url` until it answers 200; False if a process died or time ran out first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process still running, then SIGKILL whatever has not exited after the grace time."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--ui-port", type=int, default=8501)
    parser.add_argument("--ready-timeout", type=float, default=300.0, help="seconds to wait for both")
    args = parser.parse_args(argv)

    api_url = f"http://{args.host}:{args.api_port}"
    ui_url = f"http://{args.host}:{args.ui_port}"
    # Both signals stop both servers, even where SIGINT came in ignored (a background job of a script).
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        serve = [marquee(), "serve", "--dataset", args.dataset, "--host", args.host]
        procs.append(subprocess.Popen([*serve, "--port", str(args.api_port)]))
        ui = [marquee(), "ui", "--host", args.host, "--port", str(args.ui_port), "--api", api_url]
        procs.append(subprocess.Popen(ui))
        api_up = wait_until_up(f"{api_url}/readyz", procs, args.ready_timeout)
        ui_up = api_up and wait_until_up(f"{ui_url}/_stcore/health", procs, args.ready_timeout)
        if not ui_up:
            print("marquee demo: the API or the UI did not come up; see the output above", flush=True)
            return 1
        print(f"\n  Marquee API  {api_url}  (docs {api_url}/docs)", flush=True)
        print(f"  Marquee UI   {ui_url}\n\n  Ctrl-C stops both.\n", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("marquee demo: a process exited; stopping the other", flush=True)
        return 1
    except (KeyboardInterrupt, _Stop):
        print("\nmarquee demo: stopping the API and the UI", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
