"""Two real `marquee serve` replicas, each with its own state folder, on one PostgreSQL and one Redis: a
title the operator adds on A is served by B, and one removed on B leaves A, each within a bounded poll.
Slow (two servers load, and each reloads per change): run with `make test-faults`."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest

from engine import Settings
from tests.faults.servers import serve, signup

pytestmark = [pytest.mark.faults, pytest.mark.realdata, pytest.mark.slow, pytest.mark.timeout(2400)]
OPERATOR = {"X-API-Key": "operator-secret"}
DEADLINE_S = 180.0  # a poll a second, then the replica's reload, on a loaded machine


def _status(url: str, title_id: int, headers: dict[str, str]) -> int:
    return httpx.get(f"{url}/v1/titles/{title_id}", headers=headers, timeout=60).status_code


def _until(url: str, title_id: int, headers: dict[str, str], status: int) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while _status(url, title_id, headers) != status:
        assert time.monotonic() < deadline, f"title {title_id} not {status} on {url} within {DEADLINE_S:g} s"
        time.sleep(0.2)


def test_titles_added_and_removed_on_one_real_replica_reach_the_other(
    api_settings: Settings, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    # A copy of the session's build: A holds its shard and indexes the new title into it.
    shutil.copytree(api_settings.artifacts_dir, tmp_path / "artifacts")
    settings = api_settings.model_copy(update={"artifacts_dir": tmp_path / "artifacts"})
    env = {
        "MARQUEE_DATABASE_URL": postgres_url,
        "MARQUEE_REDIS_URL": redis_url,
        "MARQUEE_ADMIN_KEY": OPERATOR["X-API-Key"],
    }
    with (
        serve(settings, tmp_path / "a", extra_env=env) as a,
        serve(settings, tmp_path / "b", extra_env=env) as b,
    ):
        headers, profile = signup(a.url)
        new = {"name": "Lanternfish Harbor", "genres": ["Drama"], "overview": "A lighthouse keeper's storm."}
        added = httpx.post(f"{a.url}/v1/titles", json=new, headers=OPERATOR, timeout=300)
        assert added.status_code == 201, added.text
        title_id = added.json()["id"]
        _until(b.url, title_id, headers, 200)
        found = httpx.get(
            f"{b.url}/v1/profiles/{profile}/search", params={"q": new["name"]}, headers=headers, timeout=60
        )
        assert found.json()["results"][0]["title_id"] == title_id  # in B's own copy of the index

        assert httpx.delete(f"{b.url}/v1/titles/{title_id}", headers=OPERATOR, timeout=300).status_code == 204
        _until(a.url, title_id, headers, 404)
