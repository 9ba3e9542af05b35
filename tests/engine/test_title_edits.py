"""The operator's title edits: one congruence suite on both stores, the state folder's JSON file and
PostgreSQL (MARQUEE_DATABASE_URL). Two stores opened on one place are two replicas: each reads the
other's edits, and the version every replica polls moves with each edit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from catalog.pg_title_edits import PostgresTitleEdits
from engine import Settings, Title, TitleEditStore, title_edits
from engine.title_edits import TitleEdits

NEW = Title(id=900_001, name="Lanternfish Harbor", year=2018, genres=("Drama", "Romance"), keywords=("sea",))


@pytest.fixture(params=["json", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], TitleEditStore]]:
    """Opens a store of one kind on one shared place, as each replica would."""
    opened: list[TitleEditStore] = []

    def open_one() -> TitleEditStore:
        if request.param == "json":
            opened.append(TitleEdits(tmp_path / "state" / "titles.json"))
        else:
            opened.append(PostgresTitleEdits(request.getfixturevalue("postgres_url"), "ml-latest-small"))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def test_an_edit_on_one_replica_is_read_on_another_and_moves_the_version(
    opener: Callable[[], TitleEditStore],
) -> None:
    a, b = opener(), opener()
    assert b.read() == ({}, frozenset()) and b.version() == 0
    a.put(NEW)
    assert b.read() == ({NEW.id: NEW}, frozenset())  # tuples and all, as it was put
    first = b.version()
    assert first > 0
    b.remove(NEW.id)
    b.remove(7)
    assert a.read() == ({}, frozenset({NEW.id, 7})) and a.version() > first
    again = a.version()
    a.put(NEW)  # put back: no longer removed
    assert b.read() == ({NEW.id: NEW}, frozenset({7})) and b.version() > again


def test_an_id_is_added_once_and_a_removed_one_may_be_added_again(
    opener: Callable[[], TitleEditStore],
) -> None:
    a, b = opener(), opener()
    assert a.add(NEW)
    version = b.version()
    renamed = Title(id=NEW.id, name="Lanternfish Cove", year=None, genres=())
    assert not b.add(renamed)  # a second replica that picked the same new id
    assert a.read() == ({NEW.id: NEW}, frozenset()) and a.version() == version  # nothing stored
    b.remove(NEW.id)
    assert b.add(renamed) and a.read() == ({NEW.id: renamed}, frozenset())


def test_concurrent_edits_on_postgresql_are_all_kept_and_each_moves_the_version(postgres_url: str) -> None:
    """(One JSON file is rewritten whole: its writers across processes take the catalog lock.)"""
    stores = [PostgresTitleEdits(postgres_url, "ml-latest-small") for _ in range(4)]
    titles = [Title(id=900_100 + i, name=f"Title {i}", year=None, genres=()) for i in range(12)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: stores[i % 4].put(titles[i]), range(len(titles))))
    put, _ = stores[0].read()
    assert sorted(put) == [t.id for t in titles] and stores[1].version() == len(titles)
    stores.append(PostgresTitleEdits(postgres_url, "another data set"))
    assert stores[-1].version() == 0 and stores[-1].read() == ({}, frozenset())  # per data set
    for store in stores:
        store.close()


def test_the_configured_store_and_its_edits_over_a_data_set(tmp_path: Path, postgres_url: str) -> None:
    assert isinstance(title_edits(Settings(state_dir=tmp_path), "d"), TitleEdits)  # the default
    store = title_edits(Settings(state_dir=tmp_path, database_url=SecretStr(postgres_url)), "d")
    assert isinstance(store, PostgresTitleEdits)
    store.close()
