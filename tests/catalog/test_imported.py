"""`marquee data import`: a user's own catalog and interactions, validated row by row."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalog import DATASETS, ImportFailed, dataset_names, import_dataset, load_dataset
from engine.cli import app

TITLES = """id,name,year,genres,overview,directors,cast,runtime,maturity
10,Harbor Lights,2021,Drama|Romance,Two strangers meet at a lighthouse.,Ana Ruiz,Ben Ode|Cy Park,104,PG-13
11,Night Shift,2019,Thriller,A nurse hears a confession.,,,95,r
12,Tiny Robots,,Animation|Family,,,,,
"""
EVENTS = """user,title,rating,timestamp
alice,10,4.5,1700000000
alice,11,3,2023-11-15T10:00:00
bob,12,5,1700000100
"""


def write(tmp_path: Path, titles: str = TITLES, events: str = EVENTS) -> tuple[Path, Path]:
    (tmp_path / "titles.csv").write_text(titles)
    (tmp_path / "events.csv").write_text(events)
    return tmp_path / "titles.csv", tmp_path / "events.csv"


def test_a_good_import_loads_like_a_movielens_data_set(tmp_path: Path) -> None:
    titles, events = write(tmp_path)
    data = tmp_path / "data"
    report = import_dataset("mine", titles, events, data)
    assert (report.titles, report.users, report.interactions, report.skipped) == (3, 2, 3, [])
    assert dataset_names(data) == [*DATASETS, "mine"]
    dataset = load_dataset("mine", data)
    harbor = dataset.titles[10]
    assert (harbor.name, harbor.year, harbor.genres, harbor.runtime, harbor.maturity) == (
        "Harbor Lights",
        2021,
        ("Drama", "Romance"),
        104,
        "PG-13",
    )
    assert harbor.cast == ("Ben Ode", "Cy Park") and harbor.overview.startswith("Two strangers")
    assert dataset.titles[11].maturity == "R" and dataset.titles[12].year is None
    inter = dataset.interactions
    assert sorted(inter.items.tolist()) == [10, 11, 12] and inter.timed
    assert sorted(set(inter.users.tolist())) == [1, 2]  # alice, bob in order of appearance
    assert 1700000000 in inter.timestamps.tolist()
    assert dataset.checksum == load_dataset("mine", data).checksum


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(tmp_path: Path) -> None:
    titles = TITLES + "x1,Bad Id,2020,Drama,,,,,\n10,Repeat,2020,,,,,,\n13,,1700,,,,,-5,PG-99\n"
    events = EVENTS + "carol,99,4,1700000200\ncarol,10,9,1700000300\n,11,,yesterday\n"
    t, e = write(tmp_path, titles, events)
    with pytest.raises(ImportFailed) as failed:
        import_dataset("mine", t, e, tmp_path / "data")
    lines = [str(b) for b in failed.value.bad]
    assert lines == [
        "titles.csv line 5: id 'x1' is not a whole number",
        "titles.csv line 6: id 10 repeats line 2",
        "titles.csv line 7: name is empty; year 1700 is outside 1850..2100; runtime -5 is outside 1..1000; "
        "maturity 'PG-99' is none of G, PG, PG-13, R, NC-17",
        "events.csv line 5: title 99 is not in the titles file (or was a bad row there)",
        "events.csv line 6: rating 9 is outside 0.5..5",
        "events.csv line 7: user is empty; "
        "timestamp 'yesterday' is neither unix seconds nor an ISO 8601 date",
    ]
    assert not (tmp_path / "data" / "imported").exists() or not any(
        (tmp_path / "data" / "imported").iterdir()
    )
    report = import_dataset("mine", t, e, tmp_path / "data", skip_bad_rows=True)
    assert (report.titles, report.interactions, len(report.skipped)) == (3, 3, 6)


def test_header_problems_fail_even_when_skipping(tmp_path: Path) -> None:
    t, e = write(tmp_path, events="person,movie\na,10\n")
    with pytest.raises(ImportFailed) as failed:
        import_dataset("mine", t, e, tmp_path / "data", skip_bad_rows=True)
    assert [str(b) for b in failed.value.bad] == [
        "events.csv line 1: missing column(s) user, title; found: person, movie"
    ]
    with pytest.raises(ImportFailed, match="bad row"):
        import_dataset("mine", t, write(tmp_path)[1], tmp_path / "data", text_columns=["synopsis"])


def test_cli_lists_bad_rows_and_refuses_taken_names(tmp_path: Path) -> None:
    t, e = write(tmp_path, events=EVENTS + "dan,10,,\n")
    env = {"MARQUEE_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "data").mkdir()
    args = ["data", "import", "--name", "mine", "--titles", str(t), "--interactions", str(e)]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2
    assert "events.csv line 5: timestamp is empty" in result.stderr
    assert "nothing imported; fix them or pass --skip-bad-rows" in result.stderr
    skipped = CliRunner().invoke(app, [*args, "--skip-bad-rows"], env=env)
    assert skipped.exit_code == 0, skipped.output
    assert "3 interactions (1 bad rows skipped)" in skipped.stdout
    taken = CliRunner().invoke(app, [*args[:2], "--name", "ml-1m", *args[4:]], env=env)
    assert taken.exit_code == 2 and "taken: ml-100k, ml-1m, ml-latest-small" in taken.stderr
