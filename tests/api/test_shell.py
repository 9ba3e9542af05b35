"""The first app of a served process: /livez at once, 503 with Retry-After elsewhere, then the real app."""

from __future__ import annotations

import threading
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.shell import Deferred


def test_answers_livez_while_the_app_is_imported_then_forwards_to_it() -> None:
    release = threading.Event()
    started: list[str] = []

    def make() -> FastAPI:
        release.wait(30)  # the heavy imports
        app = FastAPI()

        @app.get("/v1/hello")
        def hello() -> dict[str, str]:
            return {"hello": "world"}

        @app.on_event("startup")
        def _started() -> None:
            started.append("lifespan ran")

        return app

    with TestClient(Deferred(make)) as client:
        assert client.get("/livez").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
        early = client.get("/v1/hello")
        assert early.status_code == 503 and early.json()["error"]["type"] == "unavailable"
        release.set()
        deadline = time.monotonic() + 30
        while client.get("/v1/hello").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert client.get("/v1/hello").json() == {"hello": "world"} and started == ["lifespan ran"]


def test_an_app_that_cannot_be_made_says_why() -> None:
    def make() -> FastAPI:
        raise ImportError("no module named torch")

    with TestClient(Deferred(make)) as client:
        deadline = time.monotonic() + 30
        while "did not start" not in client.get("/readyz").json()["reason"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert "no module named torch" in client.get("/v1/x").json()["error"]["message"]
        assert client.get("/livez").status_code == 200


def test_without_at_startup_the_app_is_made_only_when_the_server_begins_it() -> None:
    """`run` begins the imports once its port is open; until `begin`, nothing is made."""
    made: list[str] = []

    def make() -> FastAPI:
        made.append("made")
        return FastAPI()

    shell = Deferred(make, at_startup=False)
    with TestClient(shell) as client:
        assert client.get("/livez").status_code == 200
        time.sleep(0.2)  # time enough for a thread that had been started to make it
        assert made == [] and client.get("/readyz").status_code == 503
        assert client.portal is not None
        client.portal.call(shell.begin)
        client.portal.call(shell.begin)  # once only
        deadline = time.monotonic() + 30
        while client.get("/livez").status_code != 404:  # forwarded to the made app, which has no /livez
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert made == ["made"]
