"""Apps over the session's engine (tests/conftest.py) are cheap to make."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
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
