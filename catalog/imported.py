"""A user's own catalog and interaction log, imported as a data set that loads like the MovieLens ones.

`import_dataset` validates both CSV files row by row and reports every bad row with its line number; it
writes nothing unless every row is good, or `skip_bad_rows` says to leave the bad ones out. What it writes
under data_dir/imported/NAME is normalized (one title id space, integer users, unix timestamps), so
`load_imported` reads it back without checks.

titles.csv: `id`, `name`, optional `year`, `genres` (`|`-separated), free text (`overview`, `description`,
`plot`, `summary`, or the columns named), `directors` and `cast` (`|`-separated), `runtime` (minutes) and
`maturity` (G, PG, PG-13, R, NC-17). interactions.csv: `user`, `title`, optional `rating` (0.5-5, as in
MovieLens) or `value` (0-1, e.g. the share watched), optional `timestamp` (unix seconds or ISO 8601).
"""

from __future__ import annotations

import csv
import math
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from catalog.dataset import Dataset, files_sha256
from catalog.errors import CatalogError
from catalog.interactions import Interactions
from catalog.metadata import MATURITY_RATINGS, normalize_maturity
from catalog.titles import Title

IMPORTED_DIR = "imported"
TEXT_COLUMNS = ("overview", "description", "plot", "summary")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TITLES, _INTERACTIONS, _USERS = "titles.csv", "interactions.csv", "users.csv"


@dataclass(frozen=True)
class BadRow:
    file: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.problem}"


class ImportFailed(CatalogError):
    """Some rows (or a whole file) could not be read; nothing was written."""

    def __init__(self, bad: Sequence[BadRow], summary: str) -> None:
        self.bad = tuple(bad)
        super().__init__(summary)


@dataclass
class ImportReport:
    folder: Path
    titles: int
    users: int
    interactions: int
    skipped: list[BadRow] = field(default_factory=list)


def imported_names(data_dir: Path) -> list[str]:
    """Data sets imported under data_dir, by name."""
    root = Path(data_dir) / IMPORTED_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / _TITLES).is_file() and (p / _INTERACTIONS).is_file())


def import_dataset(
    name: str,
    titles_csv: Path,
    interactions_csv: Path,
    data_dir: Path,
    *,
    text_columns: Sequence[str] | None = None,
    skip_bad_rows: bool = False,
    reserved: Sequence[str] = (),
) -> ImportReport:
    """Validate both files and install them as data set `name`; `reserved` names (MovieLens') are refused."""
    if not _NAME.match(name) or name in reserved:
        taken = f"; taken: {', '.join(reserved)}" if name in reserved else ""
        raise CatalogError(
            f"data set name {name!r} must be 1-64 lowercase letters, digits, '-' or '_'{taken}"
        )
    bad: list[BadRow] = []
    titles = _read_titles(Path(titles_csv), text_columns, bad)
    rows = _read_interactions(Path(interactions_csv), titles, bad)
    fatal = [b for b in bad if b.line == 1]  # a header problem: no row can be read right
    if fatal or (bad and not skip_bad_rows):
        hint = "" if fatal else "; fix them or pass --skip-bad-rows to import the rest"
        raise ImportFailed(bad, f"{len(bad)} bad row(s), nothing imported{hint}")
    if not titles or not rows:
        empty = _TITLES if not titles else _INTERACTIONS
        raise ImportFailed(bad, f"no usable rows in {empty}; nothing imported")
    users, codes = _user_codes([r[0] for r in rows])
    target = Path(data_dir) / IMPORTED_DIR / name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        _write(staging, titles, rows, codes, users)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)  # whole or not at all: a reader never sees half a data set
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ImportReport(target, len(titles), len(users), len(rows), skipped=bad)


def load_imported(name: str, data_dir: Path) -> Dataset:
    folder = Path(data_dir) / IMPORTED_DIR / name
    frame = pd.read_csv(folder / _TITLES, dtype=str, keep_default_na=False)
    titles = {}
    for row in frame.itertuples(index=False):
        title_id = int(row.id)
        titles[title_id] = Title(
            id=title_id,
            name=row.name,
            year=int(row.year) if row.year else None,
            genres=_split(row.genres),
            overview=row.overview,
            directors=_split(row.directors),
            cast=_split(row.cast),
            runtime=int(row.runtime) if row.runtime else None,
            maturity=row.maturity or None,
        )
    events = pd.read_csv(folder / _INTERACTIONS, dtype={"user": "int64", "title": "int64"})
    interactions = Interactions.from_arrays(
        events["user"].to_numpy(),
        events["title"].to_numpy(),
        events["rating"].to_numpy(np.float32),
        events["timestamp"].fillna(-1).to_numpy(np.int64),
    )
    files = [folder / _TITLES, folder / _INTERACTIONS]
    values = list(titles.values())
    stats = {
        "titles": len(values),
        "rich_text": sum(t.rich for t in values),
        "with_people": sum(bool(t.directors or t.cast) for t in values),
        "with_runtime": sum(t.runtime is not None for t in values),
        "with_maturity": sum(t.maturity is not None for t in values),
        "users": len(np.unique(interactions.users)),
        "interactions": len(interactions),
        "rated_titles": len(np.unique(interactions.items)),
    }
    return Dataset(
        name=name, titles=titles, interactions=interactions, checksum=files_sha256(files), stats=stats
    )


# --- reading and checking -------------------------------------------------------------------------


def _rows(path: Path, required: Sequence[str], bad: list[BadRow]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; a missing file or column is one bad row at line 1."""
    if not path.is_file():
        bad.append(BadRow(path.name, 1, f"no such file {path}"))
        return
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in required if c not in header]
        if missing:
            found = ", ".join(header) or "nothing"
            bad.append(BadRow(path.name, 1, f"missing column(s) {', '.join(missing)}; found: {found}"))
            return
        reader.fieldnames = header
        for row in reader:
            line = reader.line_num
            if None in row:  # more fields than the header has
                bad.append(
                    BadRow(
                        path.name, line, f"{len(header) + len(row[None])} fields, header has {len(header)}"
                    )
                )
                continue
            yield line, {k: (v or "").strip() for k, v in row.items()}


def _read_titles(path: Path, text_columns: Sequence[str] | None, bad: list[BadRow]) -> dict[int, Title]:
    titles: dict[int, Title] = {}
    first_line: dict[int, int] = {}
    for line, row in _rows(path, ("id", "name"), bad):
        if text_columns is None:
            text_columns = [c for c in TEXT_COLUMNS if c in row]
        unknown = [c for c in text_columns if c not in row]
        if unknown:
            bad.append(BadRow(path.name, 1, f"--text-columns names {', '.join(unknown)}, not in the header"))
            return {}
        problems: list[str] = []
        title_id = _int(row["id"], "id", problems, low=0, high=2**62)
        if not row["name"]:
            problems.append("name is empty")
        year = _int(row.get("year", ""), "year", problems, low=1850, high=2100)
        runtime = _int(row.get("runtime", ""), "runtime", problems, low=1, high=1000)
        maturity = None
        if row.get("maturity"):
            maturity = normalize_maturity(row["maturity"])
            if maturity is None:
                problems.append(f"maturity {row['maturity']!r} is none of {', '.join(MATURITY_RATINGS)}")
        if title_id is not None and title_id in titles:
            problems.append(f"id {title_id} repeats line {first_line[title_id]}")
        if problems or title_id is None:
            bad.append(BadRow(path.name, line, "; ".join(problems)))
            continue
        titles[title_id] = Title(
            id=title_id,
            name=row["name"],
            year=year,
            genres=_split(row.get("genres", "")),
            overview=" ".join(row[c] for c in text_columns if row[c]),
            directors=_split(row.get("directors", "")),
            cast=_split(row.get("cast", "")),
            runtime=runtime,
            maturity=maturity,
        )
        first_line[title_id] = line
    return titles


Row = tuple[str, int, float, int | None]  # user, title, rating, timestamp


def _read_interactions(path: Path, titles: Mapping[int, Title], bad: list[BadRow]) -> list[Row]:
    rows: list[Row] = []
    for line, row in _rows(path, ("user", "title"), bad):
        problems: list[str] = []
        if not row["user"]:
            problems.append("user is empty")
        title = _int(row["title"], "title", problems, low=0, high=2**62, required=True)
        if title is not None and title not in titles:
            problems.append(f"title {title} is not in the titles file (or was a bad row there)")
        rating = math.nan
        if row.get("rating"):
            rating = _float(row["rating"], "rating", problems, 0.5, 5.0)
        elif row.get("value"):
            value = _float(row["value"], "value", problems, 0.0, 1.0)
            rating = 0.5 + 4.5 * value  # onto the 0.5-5 scale the models read
        stamp = None
        if "timestamp" in row:
            stamp = _timestamp(row["timestamp"], problems)
        if problems or title is None:
            bad.append(BadRow(path.name, line, "; ".join(problems)))
            continue
        rows.append((row["user"], title, rating, stamp))
    return rows


def _int(
    raw: str, column: str, problems: list[str], *, low: int, high: int, required: bool = False
) -> int | None:
    if not raw:
        if required:
            problems.append(f"{column} is empty")
        return None
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{column} {raw!r} is not a whole number")
        return None
    if not low <= value <= high:
        problems.append(f"{column} {value} is outside {low}..{high}")
        return None
    return value


def _float(raw: str, column: str, problems: list[str], low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{column} {raw!r} is not a number")
        return math.nan
    if not low <= value <= high:  # NaN fails this too
        problems.append(f"{column} {raw} is outside {low:g}..{high:g}")
        return math.nan
    return value


def _timestamp(raw: str, problems: list[str]) -> int | None:
    if not raw:
        problems.append("timestamp is empty (give every row one, or leave the column out)")
        return None
    if raw.isdigit():
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        problems.append(f"timestamp {raw!r} is neither unix seconds nor an ISO 8601 date")
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split("|") if part.strip())


def _user_codes(users: Sequence[str]) -> tuple[list[str], dict[str, int]]:
    """Integer user ids: the given ones when they all are non-negative integers, else 1, 2, ... in order
    of first appearance (users.csv keeps the original ids)."""
    distinct = list(dict.fromkeys(users))
    if all(u.isdigit() for u in distinct):
        return distinct, {u: int(u) for u in distinct}
    return distinct, {u: i for i, u in enumerate(distinct, 1)}


def _write(
    folder: Path, titles: Mapping[int, Title], rows: Sequence[Row], codes: Mapping[str, int], users: list[str]
) -> None:
    pd.DataFrame(
        [
            {
                "id": t.id,
                "name": t.name,
                "year": t.year if t.year is not None else "",
                "genres": "|".join(t.genres),
                "overview": t.overview,
                "directors": "|".join(t.directors),
                "cast": "|".join(t.cast),
                "runtime": t.runtime if t.runtime is not None else "",
                "maturity": t.maturity or "",
            }
            for t in titles.values()
        ]
    ).to_csv(folder / _TITLES, index=False)
    pd.DataFrame(
        {
            "user": [codes[r[0]] for r in rows],
            "title": [r[1] for r in rows],
            "rating": [r[2] for r in rows],
            "timestamp": pd.array([r[3] for r in rows], dtype="Int64"),
        }
    ).to_csv(folder / _INTERACTIONS, index=False)
    pd.DataFrame({"user": [codes[u] for u in users], "original": users}).to_csv(folder / _USERS, index=False)
