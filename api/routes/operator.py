"""The operator's catalog writes: add, change or remove a title while serving.

Only the operator's key (`MARQUEE_ADMIN_KEY`, sent as `X-API-Key`) may write; a viewer's key gets 403. A
write is kept in the title edits' store (the serving state, or PostgreSQL shared by every replica), the
engine is reloaded over the same index with it (the new title embedded and indexed), and every cached
page is dropped, so the very next request of anyone on this replica sees it; other replicas reload on
their next poll (api/catalog_sync.py). The next `marquee build` includes it.

A write holds the catalog lock (across replicas with MARQUEE_REDIS_URL: api/locks.py) while it catches
up with other replicas' edits, checks the id and stores the edit, so two replicas never give two new
titles one id. The lock unavailable or busy: 503 with Retry-After, the edit not made.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import APIKeyHeader

from api.auth import hash_key
from api.catalog_sync import swap_engine
from api.errors import ApiError, not_found
from api.locks import LockBusy, LockUnavailable
from api.models import ErrorOut, TitleIn, TitleOut, TitlePatch
from api.runtime import Runtime, RuntimeDep
from api.views import title_out
from engine import Engine, Title, variants_for

router = APIRouter(prefix="/v1/titles", tags=["operator"])
TitleId = Annotated[int, Path(ge=0, le=2**62)]
ERRORS = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
}
_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="the operator's key, MARQUEE_ADMIN_KEY")


def operator(rt: RuntimeDep, key: Annotated[str | None, Depends(_key)]) -> None:
    if not key:
        raise ApiError(401, "missing API key; send MARQUEE_ADMIN_KEY as X-API-Key", field="X-API-Key")
    admin = rt.settings.admin_key
    if admin is not None and secrets.compare_digest(key.encode(), admin.get_secret_value().encode()):
        return
    viewer = rt.engine is not None and rt.engine.accounts().account_by_key_hash(hash_key(key)) is not None
    if viewer or admin is None:
        why = "" if admin is not None else " (none is configured: set MARQUEE_ADMIN_KEY)"
        raise ApiError(403, f"catalog writes need the operator's key{why}", field="X-API-Key")
    raise ApiError(401, "invalid API key", field="X-API-Key")


Operator = Annotated[None, Depends(operator)]


@contextmanager
def _writing(request: Request) -> Iterator[Engine]:
    """The serving engine, caught up with every replica's title edits, while the write holds the engine
    swaps here and the catalog lock everywhere; once the edit is stored, this replica serves it."""
    rt: Runtime = request.app.state.runtime
    with rt.swaps:
        try:
            with rt.catalog_writes.hold():
                eng = rt.ready_engine()
                if eng.catalog_changed():  # another replica's edit this one has not reloaded yet
                    eng = swap_engine(request.app, eng)
                yield eng
        except (LockBusy, LockUnavailable) as exc:
            raise ApiError(
                503, f"catalog writes are locked ({exc}); try again", headers={"Retry-After": "5"}
            ) from exc
        # The reload is this replica's own work: other replicas' writes need not wait for it.
        swap_engine(request.app, eng)


@router.post("", status_code=201, response_model=TitleOut, responses={**ERRORS, 409: {"model": ErrorOut}})
def add_title(body: TitleIn, request: Request, _: Operator) -> TitleOut:
    """Add a title: embedded and indexed at once, in search, similar lists and New Releases."""
    with _writing(request) as eng:
        title_id = body.id if body.id is not None else max(eng.titles(), default=0) + 1
        if title_id in eng.titles():
            raise ApiError(
                409, f"title {title_id} exists; PATCH /v1/titles/{title_id} changes it", field="id"
            )
        title = Title(id=title_id, **{"year": None, "genres": (), **body.fields()})
        if not eng.title_edits().add(title):  # another replica added it since (no lock across replicas)
            raise ApiError(409, f"title {title_id} was just added on another server; try again", field="id")
    return title_out(title, variants_for(title))


@router.patch("/{title_id}", response_model=TitleOut, responses=ERRORS)
def change_title(title_id: TitleId, body: TitlePatch, request: Request, _: Operator) -> TitleOut:
    """Change some of a title's fields; its text is embedded again."""
    with _writing(request) as eng:
        current = eng.titles().get(title_id)
        if current is None:
            raise not_found("title", title_id)
        title = replace(current, **body.fields())
        eng.title_edits().put(title)
    return title_out(title, variants_for(title))


@router.delete("/{title_id}", status_code=204, responses=ERRORS)
def remove_title(title_id: TitleId, request: Request, _: Operator) -> None:
    """Remove a title: it leaves every row, search and list at once."""
    with _writing(request) as eng:
        if title_id not in eng.titles():
            raise not_found("title", title_id)
        eng.title_edits().remove(title_id)
