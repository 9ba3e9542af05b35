"""A live API for the UI to talk to: a real uvicorn on 127.0.0.1 over the session's engine (built on a real
slice, tests/conftest.py).

The UI reaches it over HTTP only, exactly as in production; tests may still look at the engine behind it
to check what the UI sent (events are stored there).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from streamlit.testing.v1 import AppTest

from api import create_app
from engine import Engine

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Remember each phase's report on the test, so fixtures can tell a failure (the browser's screenshot)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@dataclass(frozen=True)
class LiveApi:
    url: str
    engine: Engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_api(engine: Engine) -> Iterator[LiveApi]:
    """The API over the session's engine (tests/conftest.py), served by uvicorn in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(engine.settings(), engine), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test API did not start"
        time.sleep(0.05)
    assert httpx.get(f"{url}/readyz").status_code == 200
    yield LiveApi(url, engine)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def app_test(live_api: LiveApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """The Streamlit app, pointed at the live API, with no key configured (it makes an account)."""
    monkeypatch.setenv("MARQUEE_UI__API_URL", live_api.url)
    monkeypatch.delenv("MARQUEE_UI__API_KEY", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=60)
    yield at
    if "client" in at.session_state:  # the session's connection pool: a browser session would drop it
        at.session_state["client"].close()
