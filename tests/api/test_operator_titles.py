"""Titles while serving: the operator adds, changes and removes a title; search, similar lists and rows
show the change in the very next request, and the next build includes it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api import create_app
from catalog import load_dataset
from engine import Settings, apply_edits, assemble, title_edits
from tests.conftest import DATASET

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
OPERATOR = {"X-API-Key": "operator-secret"}
NEW = {
    "name": "Lanternfish Harbor",
    "genres": ["Drama", "Romance"],
    "overview": "A widowed lighthouse keeper and a marine biologist fall in love on a storm-battered island.",
    "runtime": 104,
    "maturity": "pg13",
}


@pytest.fixture
def operated(api_settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    """An API over a copy of the session's build (its own index and state), with an operator key."""
    shutil.copytree(api_settings.artifacts_dir, tmp_path / "artifacts")
    settings = api_settings.model_copy(
        update={
            "artifacts_dir": tmp_path / "artifacts",
            "state_dir": tmp_path / "state",
            "admin_key": SecretStr(OPERATOR["X-API-Key"]),
        }
    )
    engine = assemble(settings, DATASET)
    with TestClient(create_app(settings, engine)) as client:
        yield client, settings
    client.app.state.runtime.engine.close()  # the engine serving last (the first was replaced)


def viewer(client: TestClient, genres: list[str]) -> tuple[dict[str, str], str]:
    key = client.post("/v1/accounts", json={"name": "v"}).json()["api_key"]
    headers = {"X-API-Key": key}
    profile = client.post("/v1/profiles", json={"name": "v"}, headers=headers).json()["id"]
    onboarded = client.post(f"/v1/profiles/{profile}/onboarding", json={"genres": genres}, headers=headers)
    assert onboarded.status_code == 200, onboarded.text
    return headers, profile


def on_page(client: TestClient, headers: dict[str, str], profile: str) -> set[int]:
    rows = client.get(f"/v1/profiles/{profile}/rows", headers=headers).json()["rows"]
    return {i["title_id"] for row in rows for i in row["items"]}


def test_only_the_operator_writes_titles(operated: tuple[TestClient, Settings]) -> None:
    client, _ = operated
    headers, _ = viewer(client, ["Comedy"])
    assert client.post("/v1/titles", json=NEW, headers=headers).status_code == 403
    assert client.post("/v1/titles", json=NEW).status_code == 401
    assert client.post("/v1/titles", json=NEW, headers={"X-API-Key": "guess"}).status_code == 401
    bad = client.post("/v1/titles", json={**NEW, "maturity": "PG-99"}, headers=OPERATOR)
    assert bad.status_code == 422 and "PG-99" in bad.text


def test_an_added_title_is_found_at_once_then_changed_and_removed(
    operated: tuple[TestClient, Settings],
) -> None:
    client, settings = operated
    latest = max(t.year or 0 for t in load_dataset(DATASET, settings.data_dir).titles.values())
    added = client.post("/v1/titles", json={**NEW, "year": latest}, headers=OPERATOR)
    assert added.status_code == 201, added.text
    new_id = added.json()["id"]
    assert added.json()["maturity"] == "PG-13"
    headers, profile = viewer(client, ["Romance"])

    found = client.get(f"/v1/profiles/{profile}/search?q=lighthouse keeper", headers=headers).json()
    themes = [p["title_id"] for p in found["results"]]
    # By its text alone (it was embedded); the ranker knows nothing of it yet, so it need not lead.
    assert new_id in themes[:10], [p["name"] for p in found["results"][:10]]
    by_name = client.get(f"/v1/profiles/{profile}/search?q=Lanternfish Harbor", headers=headers).json()
    assert by_name["results"][0]["title_id"] == new_id
    similar = client.get(f"/v1/titles/{new_id}/similar?k=5", headers=headers)
    assert similar.status_code == 200, similar.text
    # No one has watched it, so its neighbours come from its text alone.
    picks = similar.json()["results"]
    assert len(picks) == 5 and all(p["explanation"] == "More like Lanternfish Harbor" for p in picks)
    assert new_id in on_page(client, headers, profile)  # a Romance fan's page offers it

    renamed = client.patch(f"/v1/titles/{new_id}", json={"name": "Lanternfish Bay"}, headers=OPERATOR)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Lanternfish Bay"
    by_name = client.get(f"/v1/profiles/{profile}/search?q=Lanternfish Bay", headers=headers).json()
    assert by_name["results"][0]["title_id"] == new_id

    assert client.delete(f"/v1/titles/{new_id}", headers=OPERATOR).status_code == 204
    assert client.get(f"/v1/titles/{new_id}", headers=headers).status_code == 404
    assert new_id not in on_page(client, headers, profile)
    found = client.get(f"/v1/profiles/{profile}/search?q=lighthouse keeper", headers=headers).json()
    assert new_id not in [p["title_id"] for p in found["results"]]
    assert client.get(f"/v1/titles/{new_id}/similar", headers=headers).status_code == 404


def test_the_next_build_reads_the_operators_titles(operated: tuple[TestClient, Settings]) -> None:
    client, settings = operated
    added = client.post("/v1/titles", json=NEW, headers=OPERATOR).json()["id"]
    some = next(iter(load_dataset(DATASET, settings.data_dir).titles))
    assert client.delete(f"/v1/titles/{some}", headers=OPERATOR).status_code == 204
    # What `marquee build` loads (engine/build.py applies the same edits to the data set it builds).
    edits = title_edits(settings, DATASET)
    titles = apply_edits(load_dataset(DATASET, settings.data_dir), *edits.read()).titles
    assert titles[added].name == NEW["name"] and some not in titles
