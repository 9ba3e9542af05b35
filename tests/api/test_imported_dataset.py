"""A generated catalog imported with `marquee data import`, built, and served: the whole path a user with
their own data takes, on data whose right answers are known (viewers stay inside their genres)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import create_app
from engine import Settings, assemble, build
from engine.cli import app
from engine.config import RankerSettings

pytestmark = pytest.mark.slow
GENRES = ("Western", "Musical", "Documentary", "Horror")
WORDS = {
    "Western": "a lone rider crosses the desert to settle a score with cattle rustlers",
    "Musical": "a chorus girl sings and dances her way onto the big stage",
    "Documentary": "a filmmaker follows scientists studying glaciers in the arctic",
    "Horror": "a family hears whispers in the walls of an old haunted house",
}


def generate(folder: Path, seed: int = 7) -> tuple[Path, Path]:
    """60 titles, 15 per genre; 120 viewers, each loyal to one genre, 12 timed ratings each."""
    rng = np.random.default_rng(seed)
    titles = folder / "titles.csv"
    with titles.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "name", "year", "genres", "synopsis", "runtime"])
        for i in range(60):
            genre = GENRES[i % 4]
            out.writerow([1000 + i, f"{genre} Story {i}", 1990 + i % 30, genre, WORDS[genre], 80 + i])
    events = folder / "events.csv"
    with events.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["user", "title", "rating", "timestamp"])
        for user in range(120):
            genre = user % 4
            picks = rng.choice(15, size=12, replace=False)
            for n, pick in enumerate(picks):
                stamp = 1_600_000_000 + user * 1000 + n * 86_400
                out.writerow([f"u{user}", 1000 + genre + 4 * int(pick), float(rng.integers(3, 6)), stamp])
    return titles, events


def test_an_imported_catalog_builds_and_serves(tmp_path: Path) -> None:
    titles, events = generate(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    args = ["data", "import", "--name", "shop", "--titles", str(titles), "--interactions", str(events)]
    result = CliRunner().invoke(
        app, [*args, "--text-columns", "synopsis"], env={"MARQUEE_DATA_DIR": str(data)}
    )
    assert result.exit_code == 0, result.output
    assert "60 titles, 120 users, 1440 interactions" in result.stdout

    settings = Settings(
        data_dir=data,
        artifacts_dir=tmp_path / "artifacts",
        state_dir=tmp_path / "state",
        ranker=RankerSettings(max_training_users=60),
    )
    manifest = build(settings, "shop")
    assert manifest.stats["titles"] == 60
    engine = assemble(settings, "shop")
    try:
        # A Western fan (user u0 -> id 1) rated 12 of the 15 Westerns: the other three lead the list.
        picks = engine.recommend(engine.context_for(1), k=3)
        assert picks[0].title.genres == ("Western",)
        assert sum(p.title.genres == ("Western",) for p in picks) >= 2
        with TestClient(create_app(settings, engine)) as client:
            key = client.post("/v1/accounts", json={"name": "shop"}).json()["api_key"]
            headers = {"X-API-Key": key}
            profile = client.post("/v1/profiles", json={"name": "p"}, headers=headers).json()["id"]
            rows = client.get(f"/v1/profiles/{profile}/rows", headers=headers)
            assert rows.status_code == 200 and rows.json()["rows"]
            found = client.get(f"/v1/profiles/{profile}/search?q=haunted house whispers", headers=headers)
            assert found.status_code == 200
            assert found.json()["results"][0]["genres"] == ["Horror"]  # the synopsis was embedded
    finally:
        engine.close()
