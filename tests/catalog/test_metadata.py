"""The metadata join on tiny hand-written source files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from catalog import Title, enrich, normalize_maturity
from catalog.metadata import KEYWORDS, MELU, TMDB_CREDITS, TMDB_MOVIES, metadata_files

PLAIN = {
    1: Title(id=1, name="Toy Story", year=1995, genres=("Animation",)),
    2: Title(id=2, name="Jumanji", year=1995, genres=("Adventure",)),
    3: Title(id=3, name="Nothing Known", year=2001, genres=()),
}
TMDB_IDS = {1: 862, 2: 8844, 3: 99999}


def _kw(*names: str) -> list[dict[str, object]]:
    return [{"id": i, "name": n} for i, n in enumerate(names)]


def write_metadata(root: Path) -> Path:
    for relative in (TMDB_MOVIES, KEYWORDS, MELU):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "id": [862, 8844],
            "overview": ["Woody and Buzz.", None],  # Jumanji: no TMDB overview -> MeLU plot
            "tagline": [None, "Roll the dice."],
            "keywords": [json.dumps(_kw("toy", "Friendship")), json.dumps([])],
            "runtime": [81.0, 0.0],  # 0 means unknown
            "title": ["Toy Story", "Jumanji"],
        }
    ).to_csv(root / TMDB_MOVIES, index=False)
    cast = [{"name": f"Actor {i}", "order": 6 - i} for i in range(7)]  # deliberately out of order
    crew = [{"name": "John Lasseter", "job": "Director"}, {"name": "Someone", "job": "Editor"}]
    credits = pd.DataFrame(
        {"movie_id": [862], "title": ["Toy Story"], "cast": [json.dumps(cast)], "crew": [json.dumps(crew)]}
    )
    with gzip.open(root / TMDB_CREDITS, "wt", encoding="utf-8") as handle:
        credits.to_csv(handle, index=False)
    pd.DataFrame(
        {"id": [862, 8844], "keywords": [repr(_kw("friendship", "jealousy")), repr(_kw("board game"))]}
    ).to_csv(root / KEYWORDS, index=False)
    melu = [
        "1::Toy Story::1995::G::22 Nov 1995::Animation::Melu Director::W::A, B::MeLU plot.::http://p/1.jpg",
        "2::Jumanji::1995::pg-13::15 Dec 1995::Adventure::Joe Johnston::W::Robin Williams, Kirsten Dunst"
        "::A board game comes to life.::N/A",
        "3::Nothing Known::2001::UNRATED::N/A::Drama::N/A::N/A::N/A::N/A::N/A",
    ]
    (root / MELU).write_bytes("\r\n".join(melu).encode("utf-8") + b"\r\n")
    return root


def test_missing_metadata_dir_leaves_titles_plain(tmp_path: Path) -> None:
    out = enrich(PLAIN, metadata_dir=tmp_path / "absent", tmdb_ids=TMDB_IDS, tags={})
    assert out == PLAIN
    assert metadata_files(tmp_path / "absent") == []


def test_join_prefers_tmdb_and_falls_back_to_melu(tmp_path: Path) -> None:
    root = write_metadata(tmp_path)
    out = enrich(PLAIN, metadata_dir=root, tmdb_ids=TMDB_IDS, tags={1: ("pixar",)})
    toy, jumanji, unknown = out[1], out[2], out[3]

    assert toy.overview == "Woody and Buzz."  # TMDB wins over MeLU's plot
    assert toy.keywords == ("toy", "Friendship", "jealousy")  # merged, deduped case-insensitively
    assert toy.cast == ("Actor 6", "Actor 5", "Actor 4", "Actor 3", "Actor 2")  # top 5 by order
    assert toy.directors == ("John Lasseter",)  # TMDB crew wins over MeLU's director
    assert toy.runtime == 81
    assert toy.maturity == "G"
    assert toy.poster_url == "http://p/1.jpg"
    assert toy.tags == ("pixar",)

    assert jumanji.overview == "A board game comes to life."
    assert jumanji.tagline == "Roll the dice."
    assert jumanji.keywords == ("board game",)
    assert jumanji.directors == ("Joe Johnston",)
    assert jumanji.cast == ("Robin Williams", "Kirsten Dunst")
    assert jumanji.runtime is None
    assert jumanji.maturity == "PG-13"
    assert jumanji.poster_url is None

    # Every field MeLU marks N/A stays empty; UNRATED is no maturity.
    assert unknown == PLAIN[3]
    assert len(metadata_files(root)) == 4


def test_melu_joins_through_movielens_ids(tmp_path: Path) -> None:
    root = write_metadata(tmp_path)
    titles = {50: Title(id=50, name="Jumanji", year=1995, genres=())}
    out = enrich(titles, metadata_dir=root, tmdb_ids={}, tags={}, movielens_ids={50: 2})
    assert out[50].maturity == "PG-13"
    assert out[50].overview == "A board game comes to life."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("PG-13", "PG-13"), ("pg13", "PG-13"), (" R ", "R"), ("NC-17", "NC-17"), ("G", "G"), ("PG", "PG")]
    + [("UNRATED", None), ("TV-MA", None), ("", None), (None, None)],
)
def test_normalize_maturity(raw: str | None, expected: str | None) -> None:
    assert normalize_maturity(raw) == expected
