"""Apps over the session's engine (tests/conftest.py) are cheap to make."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import create_app
from engine import Engine

DATASET = "ml-latest-small"


@pytest.fixture(scope="session")
def app(engine: Engine) -> FastAPI:
    return create_app(engine.settings(), engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:  # runs the lifespan
        yield c


def wait_loaded(client: TestClient, timeout_s: float = 120.0) -> None:
    """Until an app that loads its own engine (in the background) has loaded it, or failed to."""
    deadline = time.monotonic() + timeout_s
    while client.app.state.runtime.loading is not None or (
        client.app.state.runtime.engine is None and client.app.state.runtime.load_error is None
    ):
        assert time.monotonic() < deadline, client.get("/readyz").json()
        time.sleep(0.05)


Signup = Callable[[], tuple[dict[str, str], str]]


@pytest.fixture
def signup(client: TestClient) -> Signup:
    """A new account with one profile: (headers carrying its key, the profile id)."""

    def make() -> tuple[dict[str, str], str]:
        key = client.post("/v1/accounts", json={"name": "test"}).json()["api_key"]
        headers = {"X-API-Key": key}
        profile = client.post("/v1/profiles", json={"name": "main"}, headers=headers)
        assert profile.status_code == 201, profile.text
        return headers, profile.json()["id"]

    return make


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    """The app behind a real HTTP server (TestClient runs a request to its end before it returns)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def signup_at(http: httpx.Client) -> tuple[dict[str, str], str]:
    """A new account with one profile over real HTTP, its assistant made: (headers, profile id)."""
    key = http.post("/v1/accounts", json={"name": "stream"}).json()["api_key"]
    headers = {"X-API-Key": key}
    profile = http.post("/v1/profiles", json={"name": "main"}, headers=headers).json()["id"]
    http.get("/v1/models", headers=headers)  # makes the app's assistant
    return headers, profile
