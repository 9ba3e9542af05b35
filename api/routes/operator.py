"""The operator's catalog writes: add, change or remove a title while serving.

Only the operator's key (`MARQUEE_ADMIN_KEY`, sent as `X-API-Key`) may write; a viewer's key gets 403. A
write is kept in the serving state, the engine is reloaded over the same index with it (the new title
embedded and indexed), and every cached page is dropped, so the very next request of anyone sees it. The
next `marquee build` includes it.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import APIKeyHeader

from api.auth import hash_key
from api.errors import ApiError, not_found
from api.models import ErrorOut, TitleIn, TitleOut, TitlePatch
from api.runtime import Runtime, RuntimeDep
from api.views import title_out
from engine import Engine, Title, TitleEdits, reloaded, variants_for

router = APIRouter(prefix="/v1/titles", tags=["operator"])
TitleId = Annotated[int, Path(ge=0, le=2**62)]
ERRORS = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
}
_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="the operator's key, MARQUEE_ADMIN_KEY")
_writes = threading.Lock()  # one catalog write (and engine reload) at a time


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


def _swap(rt: Runtime, request: Request, eng: Engine) -> Engine:
    """The engine over the catalog as now written; pages and the assistant of the old one are dropped."""
    fresh = reloaded(eng)
    rt.engine = fresh
    rt.pages.forget_all()
    chat = getattr(request.app.state, "assistant", None)
    request.app.state.assistant = None  # made again on the next chat turn, over the new catalog
    if chat is not None:
        chat.close()
    return fresh


def _edits(rt: Runtime, eng: Engine) -> TitleEdits:
    return TitleEdits.of(rt.settings, eng.dataset_name())


@router.post("", status_code=201, response_model=TitleOut, responses={**ERRORS, 409: {"model": ErrorOut}})
def add_title(body: TitleIn, request: Request, rt: RuntimeDep, _: Operator) -> TitleOut:
    """Add a title: embedded and indexed at once, in search, similar lists and New Releases."""
    with _writes:
        eng = rt.ready_engine()
        title_id = body.id if body.id is not None else max(eng.titles(), default=0) + 1
        if title_id in eng.titles():
            raise ApiError(
                409, f"title {title_id} exists; PATCH /v1/titles/{title_id} changes it", field="id"
            )
        title = Title(id=title_id, **{"year": None, "genres": (), **body.fields()})
        _edits(rt, eng).put(title)
        fresh = _swap(rt, request, eng)
    return title_out(fresh.titles()[title_id], variants_for(title))


@router.patch("/{title_id}", response_model=TitleOut, responses=ERRORS)
def change_title(
    title_id: TitleId, body: TitlePatch, request: Request, rt: RuntimeDep, _: Operator
) -> TitleOut:
    """Change some of a title's fields; its text is embedded again."""
    with _writes:
        eng = rt.ready_engine()
        current = eng.titles().get(title_id)
        if current is None:
            raise not_found("title", title_id)
        title = replace(current, **body.fields())
        _edits(rt, eng).put(title)
        _swap(rt, request, eng)
    return title_out(title, variants_for(title))


@router.delete("/{title_id}", status_code=204, responses=ERRORS)
def remove_title(title_id: TitleId, request: Request, rt: RuntimeDep, _: Operator) -> None:
    """Remove a title: it leaves every row, search and list at once."""
    with _writes:
        eng = rt.ready_engine()
        if title_id not in eng.titles():
            raise not_found("title", title_id)
        _edits(rt, eng).remove(title_id)
        _swap(rt, request, eng)
