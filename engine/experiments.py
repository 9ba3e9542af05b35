"""Experiments: deterministic arm assignment, team-draft interleaving, served-page guardrails, the report.

A hash of (experiment name, profile id) picks a profile's arm, so it keeps that arm across requests,
processes and restarts with nothing stored; renaming the experiment reshuffles everyone. The arm is
returned with rows and written on every event the profile sends, which is what the report joins on.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy import BigInteger, Column, Double, Identity, MetaData, Table, Text, select

from catalog import Event, EventKind, EventStore
from catalog.database import Database
from catalog.pg_events import PostgresStore
from catalog.sqlite_schema import BUSY_TIMEOUT_S, migrate, use_wal
from engine.config import ExperimentSettings
from ranker.rows import Row, RowKind

EXPERIMENTS_FILE = "experiments.sqlite"
INTERLEAVED = "interleaved"  # the variant every profile of an interleaving experiment carries
Z95 = 1.959963984540054


def assign(experiment: ExperimentSettings, profile_id: str) -> str | None:
    """The profile's arm of the configured experiment ("interleaved" in interleave mode), or None."""
    if experiment.name is None or not experiment.arms:
        return None
    if experiment.mode == "interleave":
        return INTERLEAVED
    digest = hashlib.sha256(f"{experiment.name}:{profile_id}".encode()).digest()
    return experiment.arms[int.from_bytes(digest[:8], "big") % len(experiment.arms)]


# -- team-draft interleaving (Radlinski, Kurup and Joachims 2008) ------------------------------------


def team_draft(
    a: Sequence[int],
    b: Sequence[int],
    k: int,
    rng: np.random.Generator,
    *,
    teams: tuple[str, str] = ("a", "b"),
) -> tuple[list[int], list[str]]:
    """Interleave two rankings into at most k items, with the team that contributed each.

    Each round a fair coin picks which team drafts first; then each team in turn adds its best item not
    yet shown. When one ranking runs out the other fills the rest. No item appears twice.
    """
    rankings = (list(a), list(b))
    heads = [0, 0]
    items: list[int] = []
    owners: list[str] = []
    shown: set[int] = set()

    def draft(team: int) -> bool:
        ranking = rankings[team]
        while heads[team] < len(ranking) and ranking[heads[team]] in shown:
            heads[team] += 1
        if heads[team] == len(ranking):
            return False
        item = ranking[heads[team]]
        shown.add(item)
        items.append(item)
        owners.append(teams[team])
        return True

    while len(items) < k:
        first = int(rng.integers(2))
        progressed = False
        for team in (first, 1 - first):
            if len(items) < k:
                progressed = draft(team) or progressed
        if not progressed:
            break
    return items, owners


def interleave_top_picks(
    rows: list[Row], other: list[Row], arms: tuple[str, str], rng: np.random.Generator
) -> tuple[list[Row], dict[int, str]]:
    """The first arm's page with its Top Picks team-drafted from both arms' Top Picks, each item's reason
    naming its team; other rows lose the titles Top Picks now shows. Also returns title -> team."""
    mine, theirs = (next((r for r in page if r.kind == RowKind.TOP_PICKS), None) for page in (rows, other))
    if mine is None or theirs is None:
        return rows, {}
    by_team = {
        team: {i.title_id: i for i in top.items} for team, top in zip(arms, (mine, theirs), strict=True)
    }
    ids, owners = team_draft(
        [i.title_id for i in mine.items],
        [i.title_id for i in theirs.items],
        max(len(mine.items), len(theirs.items)),
        rng,
        teams=arms,
    )
    items = tuple(
        replace(by_team[team][t], reason={**by_team[team][t].reason, "team": team})
        for t, team in zip(ids, owners, strict=True)
    )
    shown = set(ids)
    out = []
    for row in rows:
        if row.kind == RowKind.TOP_PICKS:
            out.append(Row(row.id, row.heading, row.kind, items))
            continue
        kept = tuple(i for i in row.items if i.title_id not in shown)  # no title twice on a page
        if kept:
            out.append(Row(row.id, row.heading, row.kind, kept))
    return out, dict(zip(ids, owners, strict=True))


def credit(teams_by_item: Mapping[int, str], played: Sequence[int]) -> dict[str, int]:
    """Plays (or clicks) per team: each played item counts for the team that contributed it."""
    counts: dict[str, int] = {}
    for item in played:
        team = teams_by_item.get(int(item))
        if team is not None:
            counts[team] = counts.get(team, 0) + 1
    return counts


# -- served pages: the guardrails' raw data -----------------------------------------------------------


@dataclass(frozen=True)
class ServedPage:
    profile_id: str
    arm: str
    ts: float
    latency_ms: float
    ild: float
    experiment: str | None = None
    teams: Mapping[int, str] | None = None  # interleaving: which arm contributed each Top Picks title


class PageStore(Protocol):
    """Where served pages are logged: a SQLite file, or PostgreSQL shared by replicas."""

    def add(self, page: ServedPage) -> None: ...

    def pages(self) -> list[ServedPage]:
        """Every logged page, oldest first."""
        ...

    def close(self) -> None: ...


class ServedPages:
    """Pages served under an experiment, one row each, in their own SQLite file (WAL mode)."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        use_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")  # one row per page served: no fsync per page
        migrate(self._db, "pages")  # the schema: catalog/sqlite_migrations

    def add(self, page: ServedPage) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT INTO served_pages VALUES (?, ?, ?, ?, ?, ?, ?)", _page_row(page))

    def pages(self) -> list[ServedPage]:
        with self._lock:
            rows = self._db.execute(
                "SELECT profile_id, experiment, arm, ts, latency_ms, ild, teams FROM served_pages ORDER BY ts"
            ).fetchall()
        return [_served_page(tuple(row)) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


_served = Table(
    "served_pages",
    MetaData(),
    Column("profile_id", Text, nullable=False),
    Column("experiment", Text),
    Column("arm", Text, nullable=False),
    Column("ts", Double, nullable=False),
    Column("latency_ms", Double, nullable=False),
    Column("ild", Double, nullable=False),
    Column("teams", Text),
    Column("seq", BigInteger, Identity(), nullable=False),  # ties in `ts` keep insert order
)  # made by the migrations (catalog/migrations), never from this
_PAGE_COLUMNS = [
    _served.c[n] for n in ("profile_id", "experiment", "arm", "ts", "latency_ms", "ild", "teams")
]


class PostgresServedPages:
    """Served pages in PostgreSQL, over a `Database` that its opener shares and closes."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, page: ServedPage) -> None:
        values = dict(zip((c.name for c in _PAGE_COLUMNS), _page_row(page), strict=True))
        with self._db.begin() as db:
            db.execute(_served.insert().values(**values))

    def pages(self) -> list[ServedPage]:
        rows = self._db.read(select(*_PAGE_COLUMNS).order_by(_served.c.ts, _served.c.seq))
        return [_served_page(tuple(row)) for row in rows]

    def close(self) -> None:
        """Nothing of its own to close: the database belongs to whoever opened it."""


def _page_row(page: ServedPage) -> tuple[Any, ...]:
    teams = None if page.teams is None else json.dumps({str(t): a for t, a in page.teams.items()})
    return (page.profile_id, page.experiment, page.arm, page.ts, page.latency_ms, page.ild, teams)


def _served_page(row: tuple[Any, ...]) -> ServedPage:
    profile_id, experiment, arm, ts, latency_ms, ild, teams = row
    return ServedPage(
        profile_id=profile_id,
        experiment=experiment,
        arm=arm,
        ts=ts,
        latency_ms=latency_ms,
        ild=ild,
        teams=None if teams is None else {int(t): v for t, v in json.loads(teams).items()},
    )


# -- statistics -----------------------------------------------------------------------------------------


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion; None without trials."""
    if n <= 0:
        return None
    p = min(successes, n) / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def difference(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> dict[str, Any] | None:
    """p2 − p1 with a normal-approximation interval on two independent proportions."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = min(x1, n1) / n1, min(x2, n2) / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return {"diff": p2 - p1, "ci": (p2 - p1 - z * se, p2 - p1 + z * se)}


# -- the report -------------------------------------------------------------------------------------------


def _logged(state: Path, events_file: str, database_url: str | None) -> tuple[list[Event], list[ServedPage]]:
    """Impressions and plays sent under an experiment arm, and the pages served: from PostgreSQL when the
    state is kept there, else from the state folder's SQLite files (the events read-only)."""
    kinds = (EventKind.IMPRESSION, EventKind.PLAY)
    if database_url:
        with Database(database_url) as database:
            events = PostgresStore(database).all_events(kinds=kinds, with_variant=True)
            return events, PostgresServedPages(database).pages()
    events, pages = [], []
    if (state / events_file).is_file():
        with EventStore(state / events_file, readonly=True) as store:
            events = store.all_events(kinds=kinds, with_variant=True)
    if (state / EXPERIMENTS_FILE).is_file():
        log = ServedPages(state / EXPERIMENTS_FILE)
        try:
            pages = log.pages()
        finally:
            log.close()
    return events, pages


def report(
    state: Path,
    experiment: ExperimentSettings,
    *,
    events_file: str = "events.sqlite",
    database_url: str | None = None,
) -> dict[str, Any]:
    """Per arm engagement (take rate = plays / impressions, Wilson 95%), each arm's difference from the
    first with a 95% interval, guardrails (served-page latency and Top Picks diversity), and for
    interleaving the wins, losses and ties per profile. The events and served pages come from
    `database_url` when set (PostgreSQL, every replica's), else from the state folder."""
    events, logged = _logged(state, events_file, database_url)
    pages = [p for p in logged if experiment.name is None or p.experiment == experiment.name]
    arms = [INTERLEAVED] if experiment.mode == "interleave" else list(experiment.arms)
    seen = {e.variant for e in events if e.variant is not None}
    arms += sorted(seen - set(arms) - {INTERLEAVED, *experiment.arms})
    out: dict[str, Any] = {"experiment": experiment.name, "mode": experiment.mode, "arms": {}}
    for arm in arms:
        mine = [e for e in events if e.variant == arm]
        served = [p for p in pages if p.arm == arm]
        impressions = sum(e.kind == "impression" for e in mine)
        plays = sum(e.kind == "play" for e in mine)
        out["arms"][arm] = {
            "profiles": len({e.profile_id for e in mine} | {p.profile_id for p in served}),
            "impressions": impressions,
            "plays": plays,
            "take_rate": plays / impressions if impressions else None,
            "take_rate_ci": wilson(plays, impressions),
            "pages": len(served),
            "mean_latency_ms": float(np.mean([p.latency_ms for p in served])) if served else None,
            "mean_ild": float(np.mean([p.ild for p in served])) if served else None,
        }
    if experiment.mode == "ab" and len(arms) >= 2:
        base = out["arms"][arms[0]]
        out["differences"] = {
            f"{arm} - {arms[0]}": difference(
                base["plays"], base["impressions"], out["arms"][arm]["plays"], out["arms"][arm]["impressions"]
            )
            for arm in arms[1:]
        }
    if experiment.mode == "interleave" and len(experiment.arms) == 2:
        out["interleaving"] = _interleaving(events, pages, tuple(experiment.arms))
    return out


def _interleaving(events: list[Event], pages: list[ServedPage], arms: tuple[str, ...]) -> dict[str, Any]:
    """Each play is credited to the arm whose item it was on the latest interleaved page the profile was
    served before it; a profile's session is won by the arm with more credited plays."""
    by_profile: dict[str, list[ServedPage]] = defaultdict(list)
    for page in pages:
        if page.teams is not None:
            by_profile[page.profile_id].append(page)
    tally = {"wins": 0, "losses": 0, "ties": 0}
    for profile_id, served in by_profile.items():
        counts = dict.fromkeys(arms, 0)
        for e in events:
            if e.profile_id != profile_id or e.kind != "play" or e.variant != INTERLEAVED:
                continue
            before = [p for p in served if p.ts <= e.ts and e.title_id in (p.teams or {})]
            if before:
                for team, n in credit(before[-1].teams or {}, [e.title_id]).items():
                    counts[team] = counts.get(team, 0) + n
        a, b = counts[arms[0]], counts[arms[1]]
        tally["wins" if a > b else "losses" if b > a else "ties"] += 1
    decided = tally["wins"] + tally["losses"]
    return {
        "arm": arms[0],
        "against": arms[1],
        **tally,
        "share": tally["wins"] / decided if decided else None,  # of decided sessions won by `arm`
        "share_ci": wilson(tally["wins"], decided),
    }


def format_report(result: Mapping[str, Any]) -> str:
    """The report as a few plain lines."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.2f}%"

    def ci(pair: Sequence[float] | None) -> str:
        return "n/a" if pair is None else f"[{pct(pair[0])}, {pct(pair[1])}]"

    def num(value: float | None, unit: str = "") -> str:
        return "n/a" if value is None else f"{value:.3f}{unit}"

    lines = [f"experiment {result['experiment']} ({result['mode']})"]
    for arm, f in result["arms"].items():
        lines.append(
            f"  {arm}: profiles {f['profiles']}, impressions {f['impressions']}, plays {f['plays']}, "
            f"take rate {pct(f['take_rate'])} 95% CI {ci(f['take_rate_ci'])}; "
            f"guardrails: pages {f['pages']}, latency {num(f['mean_latency_ms'], ' ms')}, "
            f"ILD {num(f['mean_ild'])}"
        )
    for name, d in result.get("differences", {}).items():
        text = "n/a" if d is None else f"{pct(d['diff'])} 95% CI {ci(d['ci'])}"
        lines.append(f"  difference {name}: {text}")
    if "interleaving" in result:
        i = result["interleaving"]
        lines.append(
            f"  interleaving {i['arm']} vs {i['against']}: wins {i['wins']}, losses {i['losses']}, "
            f"ties {i['ties']}; share won {pct(i['share'])} 95% CI {ci(i['share_ci'])}"
        )
    return "\n".join(lines)
