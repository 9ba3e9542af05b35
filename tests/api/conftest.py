"""Apps over the session's engine (tests/conftest.py) are cheap to make."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import create_app
from engine import Engine

DATASET = "ml-latest-small"


@pytest.fixture(scope="session")
def app(engine: Engine) -> FastAPI:
    return create_app(engine.settings, engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:  # runs the lifespan
        yield c


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
