"""MovieLens loaders: tiny synthetic layouts, then the real files in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog import (
    DATASETS,
    CatalogError,
    Dataset,
    MissingDataError,
    UnknownDatasetError,
    dataset_dir,
    load_dataset,
    parse_title,
)
from catalog.loaders import ML100K_GENRES

MOVIES_CSV = """movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
2571,"Matrix, The (1999)",Action|Sci-Fi|Thriller
5,Untitled Thing,(no genres listed)
"""
RATINGS_CSV = """userId,movieId,rating,timestamp
1,1,4.0,964982703
1,2571,5.0,964981247
2,1,2.5,1445714994
"""
TAGS_CSV = """userId,movieId,tag,timestamp
1,1,Pixar,1
2,1,fun,2
3,1,pixar ,3
4,1,Fun,4
5,1,pixar,5
"""


def write_latest_small(directory: Path, *, tags: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "movies.csv").write_text(MOVIES_CSV, encoding="utf-8")
    (directory / "ratings.csv").write_text(RATINGS_CSV, encoding="utf-8")
    if tags:
        (directory / "tags.csv").write_text(TAGS_CSV, encoding="utf-8")
    return directory


# --- names and errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Matrix, The (1999)", ("The Matrix", 1999)),
        ("Time to Kill, A (1996)", ("A Time to Kill", 1996)),
        ("Crow, The: Wicked Prayer (2005)", ("The Crow: Wicked Prayer", 2005)),
        (
            "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
            ("The City of Lost Children (La Cité des enfants perdus)", 1995),
        ),
        ("Avventura, L' (Adventure, The) (1960)", ("L'Avventura (The Adventure)", 1960)),
        ("This World, Then the Fireworks (1997)", ("This World, Then the Fireworks", 1997)),
        ("Stranger Things (2016–2017)", ("Stranger Things", 2016)),
        ("Babylon 5", ("Babylon 5", None)),
    ],
)
def test_parse_title_moves_articles_to_the_front(raw: str, expected: tuple[str, int | None]) -> None:
    assert parse_title(raw) == expected


def test_datasets_are_sorted() -> None:
    assert list(DATASETS) == sorted(DATASETS)


def test_unknown_dataset_names_value_and_options(tmp_path: Path) -> None:
    with pytest.raises(UnknownDatasetError) as info:
        load_dataset("foo", tmp_path)
    assert str(info.value) == "unknown dataset 'foo'; valid: ml-100k, ml-1m, ml-latest-small"
    assert isinstance(info.value, CatalogError)


def test_missing_data_names_path_and_remedy(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError) as info:
        load_dataset("ml-latest-small", tmp_path / "nowhere")
    message = str(info.value)
    assert str(tmp_path / "nowhere" / "movielens" / "ml-latest-small") in message
    assert "marquee data fetch ml-latest-small" in message
    assert "MARQUEE_DATA_DIR" in message
    assert isinstance(info.value, CatalogError)
    with pytest.raises(MissingDataError, match=r"MARQUEE_DATA_DIR to a folder holding movielens/ml-1m"):
        load_dataset("ml-1m", tmp_path / "nowhere")


# --- synthetic layouts ----------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["movielens/ml-latest-small", "ml-latest-small", "."])
def test_dataset_dir_accepts_every_layout(tmp_path: Path, layout: str) -> None:
    expected = write_latest_small(tmp_path / layout)
    assert dataset_dir("ml-latest-small", tmp_path) == expected


def test_flat_archive_without_metadata_loads_plain_titles(tmp_path: Path) -> None:
    write_latest_small(tmp_path)  # what `marquee data fetch` unpacks: no links, no metadata/
    dataset = load_dataset("ml-latest-small", tmp_path)
    assert sorted(dataset.titles) == [1, 5, 2571]
    assert dataset.titles[2571].name == "The Matrix"
    assert dataset.titles[5].genres == ()
    assert dataset.titles[5].year is None
    assert dataset.titles[1].tags == ("pixar", "fun")  # case-insensitive, most frequent first
    assert not dataset.titles[1].overview
    assert dataset.stats["rich_text"] == 0
    assert dataset.stats["users"] == 2
    assert dataset.stats["interactions"] == 3
    ratings = dataset.interactions.ratings
    np.testing.assert_array_equal(ratings, np.array([4.0, 5.0, 2.5], np.float32))
    assert dataset.interactions.timed and dataset.interactions.explicit


def test_checksum_is_stable_and_tracks_content(tmp_path: Path) -> None:
    write_latest_small(tmp_path)
    first = load_dataset("ml-latest-small", tmp_path).checksum
    assert load_dataset("ml-latest-small", tmp_path).checksum == first
    assert len(first) == 64 and int(first, 16) >= 0
    (tmp_path / "ratings.csv").write_text(RATINGS_CSV + "2,2571,4.0,1445714995\n", encoding="utf-8")
    assert load_dataset("ml-latest-small", tmp_path).checksum != first


# --- real data --------------------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("fixture", "interactions", "users", "titles"),
    [
        ("latest_small", 100_836, 610, 9_742),
        ("ml_1m", 1_000_209, 6_040, 3_883),
        ("ml_100k", 100_000, 943, 1_682),
    ],
)
def test_real_counts(
    request: pytest.FixtureRequest, fixture: str, interactions: int, users: int, titles: int
) -> None:
    dataset: Dataset = request.getfixturevalue(fixture)
    assert len(dataset.interactions) == dataset.stats["interactions"] == interactions
    assert len(dataset.interactions.user_ids()) == dataset.stats["users"] == users
    assert len(dataset.titles) == dataset.stats["titles"] == titles
    assert set(dataset.interactions.item_ids().tolist()) <= set(dataset.titles)
    assert len(dataset.checksum) == 64
    assert all(title.id == key for key, title in dataset.titles.items())


@pytest.mark.realdata
def test_latest_small_toy_story_and_matrix(latest_small: Dataset) -> None:
    toy_story = latest_small.titles[1]
    assert (toy_story.name, toy_story.year) == ("Toy Story", 1995)
    assert toy_story.genres == ("Adventure", "Animation", "Children", "Comedy", "Fantasy")
    assert "Woody" in toy_story.overview  # TMDB overview
    assert toy_story.directors == ("John Lasseter",)
    assert toy_story.cast[:2] == ("Tom Hanks", "Tim Allen") and len(toy_story.cast) == 5
    assert toy_story.runtime == 81
    assert "toy" in toy_story.keywords
    assert "pixar" in toy_story.tags
    matrix = latest_small.titles[2571]
    assert matrix.name == "The Matrix" and matrix.display_name == "The Matrix (1999)"
    assert matrix.maturity == "R"
    assert "Keanu Reeves" in matrix.document()
    assert latest_small.interactions.explicit and latest_small.interactions.timed


@pytest.mark.realdata
def test_latest_small_coverage_matches_readme(latest_small: Dataset) -> None:
    stats = latest_small.stats
    # README: TMDB 5000 covers 3,537 titles, TMDB or MeLU 5,417; a few have an empty overview/plot.
    assert stats["with_runtime"] == 3_537  # runtime comes only from TMDB
    assert stats["with_people"] == 5_417
    assert 5_300 <= stats["rich_text"] <= 5_417
    assert 8_600 <= stats["with_keywords"] <= 9_544
    assert 0 < stats["with_maturity"] <= 2_949
    assert stats["tmdb_linked"] == 9_742 - 8


@pytest.mark.realdata
def test_ml_1m_is_implicit_and_untimed(ml_1m: Dataset) -> None:
    assert not ml_1m.interactions.explicit and not ml_1m.interactions.timed
    assert np.isnan(ml_1m.interactions.ratings).all()
    assert (ml_1m.interactions.timestamps == -1).all()
    # README row order: 1::1193, 1::661, 1::914.
    assert ml_1m.interactions.items[:3].tolist() == [1193, 661, 914]
    toy_story = ml_1m.titles[1]
    assert toy_story.genres == ("Animation", "Children's", "Comedy")
    assert toy_story.maturity == "G"
    assert ml_1m.titles[2571].maturity == "R"
    assert ml_1m.stats["rich_text"] >= 3_800  # MeLU covers nearly every ml-1m title


@pytest.mark.realdata
def test_ml_100k_links_to_movielens_by_title(ml_100k: Dataset, data_dir: Path) -> None:
    genres = (data_dir / "movielens" / "ml-100k" / "u.genre").read_text(encoding="latin-1").split()
    assert tuple(line.split("|")[0] for line in genres) == ML100K_GENRES
    toy_story = ml_100k.titles[1]
    assert (toy_story.name, toy_story.year) == ("Toy Story", 1995)
    assert toy_story.genres == ("Animation", "Children's", "Comedy")
    assert toy_story.directors == ("John Lasseter",)
    star_wars = ml_100k.titles[50]
    assert (star_wars.name, star_wars.year) == ("Star Wars", 1977)
    assert star_wars.directors == ("George Lucas",)
    assert ml_100k.titles[12].name == "The Usual Suspects"
    assert ml_100k.stats["movielens_matched"] >= 1_600
    assert 1_200 <= ml_100k.stats["tmdb_linked"] <= ml_100k.stats["movielens_matched"]
    assert ml_100k.interactions.explicit and ml_100k.interactions.timed
