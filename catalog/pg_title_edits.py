"""The operator's title edits in PostgreSQL (MARQUEE_DATABASE_URL), shared by every replica: the same
edits as the JSON file in the state folder (engine/title_edits.py), plus a version per data set that
each edit raises in its own transaction, so replicas that poll it know when to reload their catalog.

Each edit raises the version in its own transaction, and the version row stays locked until that
commits, so versions commit in order: a replica that read version v can read every edit up to v.
"""

from __future__ import annotations

import json

from sqlalchemy import BigInteger, Column, Connection, MetaData, Table, Text, select
from sqlalchemy.dialects.postgresql import insert

from catalog.database import Database
from catalog.titles import Title

_metadata = MetaData()  # what the queries see; the tables come from migration 0003
title_edits = Table(
    "title_edits",
    _metadata,
    Column("dataset", Text, primary_key=True),
    Column("title_id", BigInteger, primary_key=True),
    Column("title", Text),
)
versions = Table(
    "title_edit_versions",
    _metadata,
    Column("dataset", Text, primary_key=True),
    Column("version", BigInteger, nullable=False),
)


class PostgresTitleEdits:
    """One data set's edits; safe across threads and replicas. An unreachable database raises
    StoreUnavailableError."""

    def __init__(self, url: str, dataset: str) -> None:
        self._db = Database(url, pool_size=2)  # a poll a second and the operator's rare writes
        self._dataset = dataset

    def read(self) -> tuple[dict[int, Title], frozenset[int]]:
        query = select(title_edits.c.title_id, title_edits.c.title).where(
            title_edits.c.dataset == self._dataset
        )
        rows = self._db.read(query)
        put = {int(t): Title.from_json(json.loads(body)) for t, body in rows if body is not None}
        return put, frozenset(int(t) for t, body in rows if body is None)

    def put(self, title: Title) -> None:
        self._edit(title.id, json.dumps(title.to_json()))

    def add(self, title: Title) -> bool:
        body = json.dumps(title.to_json())
        with self._db.begin() as db:
            row = insert(title_edits).values(dataset=self._dataset, title_id=title.id, title=body)
            # A concurrent add of the same id waits here for the first to commit, then finds its title.
            fresh = row.on_conflict_do_update(
                index_elements=["dataset", "title_id"],
                set_={"title": body},
                where=title_edits.c.title.is_(None),
            )
            if db.execute(fresh.returning(title_edits.c.title_id)).first() is None:
                return False
            self._bump(db)
        return True

    def remove(self, title_id: int) -> None:
        self._edit(title_id, None)

    def version(self) -> int:
        query = select(versions.c.version).where(versions.c.dataset == self._dataset)
        found = self._db.read(query)
        return int(found[0][0]) if found else 0

    def close(self) -> None:
        self._db.close()

    def _edit(self, title_id: int, body: str | None) -> None:
        with self._db.begin() as db:
            self._bump(db)
            row = insert(title_edits).values(dataset=self._dataset, title_id=title_id, title=body)
            db.execute(
                row.on_conflict_do_update(index_elements=["dataset", "title_id"], set_={"title": body})
            )

    def _bump(self, db: Connection) -> None:
        """Raise the version in `db`'s transaction; its row stays locked until commit, so edits commit in
        the order of their versions."""
        bump = insert(versions).values(dataset=self._dataset, version=1)
        db.execute(
            bump.on_conflict_do_update(index_elements=["dataset"], set_={"version": versions.c.version + 1})
        )
