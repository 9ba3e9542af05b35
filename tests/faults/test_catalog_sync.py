"""Catalog changes reach every replica (api/catalog_sync.py): two apps, each over an engine of its own
(its own copy of the Edge shard, its own state folder), on one PostgreSQL and one Redis. A title the
operator adds on A is found and served on B, one removed on A leaves B's rows and search, each within a
bounded poll of B; a title B adds before it has polled A's does not take A's id. Slow (four engines
load, and reload on each change): in the multi-replica tier, `make test-faults`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

import api.catalog_sync
from api import create_app
from engine import Engine, assemble
from tests.conftest import DATASET

pytestmark = [pytest.mark.faults, pytest.mark.realdata, pytest.mark.slow]
OPERATOR = {"X-API-Key": "operator-secret"}
DEADLINE_S = 120.0  # a poll a second, then a reload (seconds here; more on a loaded machine)
NEW = {
    "name": "Lanternfish Harbor",
    "genres": ["Drama", "Romance"],
    "overview": "A widowed lighthouse keeper and a marine biologist fall in love on a storm-battered island.",
}


@pytest.fixture
def replicas(
    engine: Engine, postgres_url: str, redis_url: str, tmp_path: Path
) -> Iterator[tuple[TestClient, TestClient]]:
    """A and B over the session's build. The session engine holds its Edge shard, so each assembles over
    a copy of its own, as a second server on one machine does."""
    with ExitStack() as stack:
        clients = []
        for name in ("a", "b"):
            settings = engine.settings().model_copy(
                update={
                    "state_dir": tmp_path / name,
                    "database_url": SecretStr(postgres_url),
                    "redis_url": SecretStr(redis_url),
                    "admin_key": SecretStr(OPERATOR["X-API-Key"]),
                }
            )
            eng = assemble(settings, DATASET)
            assert any((tmp_path / name / DATASET / "replicas").iterdir())  # its own copy of the shard
            app = create_app(settings, eng)
            # The engine serving last (catalog changes replace the first), once the app has stopped.
            stack.callback(lambda app=app: app.state.runtime.engine.close())
            clients.append(stack.enter_context(TestClient(app)))
        yield clients[0], clients[1]


def eventually(check: Callable[[], Any], what: str) -> Any:
    """`check()`'s first truthy value, polled until DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    while not (found := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {DEADLINE_S:g} s: {what}")
        time.sleep(0.2)
    return found


def viewer(client: TestClient) -> tuple[dict[str, str], str]:
    headers = {"X-API-Key": client.post("/v1/accounts", json={"name": "v"}).json()["api_key"]}
    profile = client.post("/v1/profiles", json={"name": "v"}, headers=headers).json()["id"]
    onboarded = client.post(
        f"/v1/profiles/{profile}/onboarding", json={"genres": ["Romance"]}, headers=headers
    )
    assert onboarded.status_code == 200, onboarded.text
    return headers, profile


def on_page(client: TestClient, headers: dict[str, str], profile: str) -> set[int]:
    rows = client.get(f"/v1/profiles/{profile}/rows", headers=headers).json()["rows"]
    return {i["title_id"] for row in rows for i in row["items"]}


def searched(client: TestClient, headers: dict[str, str], profile: str, query: str) -> list[int]:
    found = client.get(f"/v1/profiles/{profile}/search", params={"q": query}, headers=headers)
    assert found.status_code == 200, found.text
    return [p["title_id"] for p in found.json()["results"]]


def test_a_title_added_or_removed_on_one_replica_reaches_the_other(
    replicas: tuple[TestClient, TestClient],
) -> None:
    a, b = replicas
    headers, profile = viewer(a)  # the account and profile are in PostgreSQL: B knows them too

    added = a.post("/v1/titles", json=NEW, headers=OPERATOR)
    assert added.status_code == 201, added.text
    new_id = added.json()["id"]
    assert b.get(f"/v1/titles/{new_id}", headers=headers).status_code == 404  # B has not polled yet
    served = eventually(
        lambda: (r := b.get(f"/v1/titles/{new_id}", headers=headers)).status_code == 200 and r.json(),
        "A's new title served by B",
    )
    assert served["name"] == NEW["name"]
    # In B's own index: found by name and by its text (embedded by B when it reloaded).
    assert searched(b, headers, profile, NEW["name"])[0] == new_id
    assert new_id in searched(b, headers, profile, "lighthouse keeper")[:10]

    page = on_page(b, headers, profile)  # B's page, now cached in Redis
    gone = next(t for t in sorted(page) if t != new_id)
    name = b.get(f"/v1/titles/{gone}", headers=headers).json()["name"]
    assert gone in searched(b, headers, profile, name)
    assert a.delete(f"/v1/titles/{gone}", headers=OPERATOR).status_code == 204
    eventually(
        lambda: (
            b.get(f"/v1/titles/{gone}", headers=headers).status_code == 404
            and gone not in on_page(b, headers, profile)
        ),
        "the title A removed gone from B's title lookup and rows",
    )
    assert gone not in searched(b, headers, profile, name)
    assert gone not in on_page(a, headers, profile)


@pytest.fixture
def no_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replicas made after this poll once an hour: only a write makes one catch up."""
    monkeypatch.setattr(api.catalog_sync, "POLL_S", 3600.0)


def test_a_replica_that_has_not_polled_yet_catches_up_before_it_writes(
    no_polls: None, replicas: tuple[TestClient, TestClient]
) -> None:
    a, b = replicas
    first = a.post("/v1/titles", json=NEW, headers=OPERATOR).json()["id"]
    headers, _ = viewer(b)
    assert b.get(f"/v1/titles/{first}", headers=headers).status_code == 404  # B has not reloaded
    # B's next id would be A's if B did not reload A's edit under the lock before picking one.
    second = b.post("/v1/titles", json={**NEW, "name": "Lanternfish Cove"}, headers=OPERATOR)
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first
    for client, title_id, name in ((b, first, NEW["name"]), (b, second.json()["id"], "Lanternfish Cove"),
                                   (a, first, NEW["name"])):  # fmt: skip
        shown = client.get(f"/v1/titles/{title_id}", headers=headers)
        assert shown.status_code == 200 and shown.json()["name"] == name
