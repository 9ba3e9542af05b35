"""One engine per session on a real slice of ml-latest-small; apps over it are cheap to make."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import create_app
from engine import Engine, Settings, build

DATASET = "ml-latest-small"


@pytest.fixture(scope="session")
def api_settings(small_slice_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = Settings(
        data_dir=small_slice_dir,
        artifacts_dir=tmp_path_factory.mktemp("api-artifacts"),
        state_dir=tmp_path_factory.mktemp("api-state"),
    )
    build(s, DATASET)
    return s


@pytest.fixture(scope="session")
def engine(api_settings: Settings) -> Iterator[Engine]:
    eng = Engine.load(api_settings, DATASET)
    yield eng
    eng.close()


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
