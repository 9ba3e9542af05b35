"""What a profile sees: homepage rows, search, what to play next."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.assistants import assistant
from api.auth import OwnedProfile
from api.errors import ApiError
from api.experiments import assign
from api.models import ErrorOut, PickList, RowOut, RowsOut
from api.runtime import Runtime, RuntimeDep
from api.views import pick_list, row_out
from assistant.search_reading import search_intent
from engine import REGIONS, Context, Engine

router = APIRouter(prefix="/v1/profiles/{profile_id}", tags=["feed"])
ERRORS = {
    401: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
    429: {"model": ErrorOut},
}
ERRORS |= {503: {"model": ErrorOut}}
Device = Annotated[str | None, Query(max_length=32, examples=["tv"], description="tv, mobile, web, ...")]
Region = Annotated[str | None, Query(description=f"one of {', '.join(REGIONS)}; default: the profile's")]
K = Annotated[int, Query(ge=1, le=100)]
MAX_REBUILT = 4  # pages rebuilt per write (one per device, region and hour asked for); others dropped
log = logging.getLogger("marquee.api")
PageKey = tuple[str | None, str | None, int | None]  # device, region, hour: what a cached page varies by


def at_hour(hour: int | None) -> float:
    """Now, or today at `hour` (UTC) when the client says what its local hour is."""
    now = time.time()
    if hour is None:
        return now
    return datetime.fromtimestamp(now, UTC).replace(hour=hour, minute=0, second=0).timestamp()


def context(
    eng: Engine,
    profile_id: str,
    *,
    region: str | None = None,
    device: str | None = None,
    hour: int | None = None,
) -> Context:
    if region is not None and region.upper() not in REGIONS:
        raise ApiError(422, f"unknown region {region!r}; valid: {', '.join(REGIONS)}", field="region")
    return eng.profile_context(
        profile_id, region=region.upper() if region else None, device=device, now=at_hour(hour)
    )


@router.get("/rows", response_model=RowsOut, responses=ERRORS)
async def rows(
    profile: OwnedProfile,
    rt: RuntimeDep,
    device: Device = None,
    hour: Annotated[int | None, Query(ge=0, le=23, description="the client's local hour")] = None,
    region: Region = None,
) -> Response:
    """The homepage: rows ordered for this profile, each item explained, with its artwork.

    Pages are cached per profile until a write for it; `X-Cache` says whether this one was (hit), was
    computed for this request (miss) or by a concurrent one for the same page (shared).
    """
    rt.ready_engine()
    key: PageKey = (device, region, hour)
    cached = rt.cache.get(profile.id, key)
    if cached is not None:  # answered here on the event loop: a hit never waits for a worker thread
        rt.metrics.cache.labels("hit").inc()
        return Response(cached, media_type="application/json", headers={"X-Cache": "hit"})
    body, outcome = await run_in_threadpool(
        rt.cache.get_or_compute, profile.id, key, page(rt, profile.id, key)
    )
    rt.metrics.cache.labels(outcome).inc()
    return Response(body, media_type="application/json", headers={"X-Cache": outcome})


def page(
    rt: Runtime, profile_id: str, key: PageKey, *, ahead: bool = False
) -> Callable[[], tuple[bytes, bool]]:
    """What computes one homepage: (JSON body, whether the cache may keep it); `ahead` of a request for it."""
    device, region, hour = key

    def compute() -> tuple[bytes, bool]:
        eng = rt.ready_engine()
        arm = assign(rt.settings, profile_id)  # the arm that serves this page is the one reported
        ctx = context(eng, profile_id, region=region, device=device, hour=hour)
        found = eng.rows(ctx, arm=arm, experiment=rt.settings.experiment, ahead=ahead)
        index_down = eng.last_fallback is not None  # this request's own fallback, not another's
        if eng.degraded:
            rt.metrics.fallbacks.labels("ranker").inc()
        if index_down:
            rt.metrics.fallbacks.labels("index").inc()
        out = RowsOut(rows=[row_out(r) for r in found], variant=arm, degraded=eng.degraded or index_down)
        # Kept serialized: a hit costs no validation or encoding. A fallback page is not worth keeping
        # once the index is back.
        return out.model_dump_json().encode(), not index_down

    return compute


def rebuild_pages(rt: Runtime, profile_id: str) -> None:
    """After a write that changes what a profile is shown, before it is acknowledged: build the profile's
    cached pages anew and swap them in. Readers get the pages from before the write until the swap (the
    write is not acknowledged yet) and never wait for a page build; once the write is acknowledged, the
    new ones. Concurrent writes to one page share a rebuild that starts after both (api/rebuilds.py). A
    page that fails to build is dropped, and built on its next request instead."""
    token, keys = rt.cache.begin_write(profile_id)
    pages: dict[PageKey, bytes] = {}
    try:
        for key in sorted(keys, key=repr)[:MAX_REBUILT]:
            try:
                body, keep = rt.rebuilds.run(profile_id, key, page(rt, profile_id, key, ahead=True))
            except Exception as exc:  # the write stands; only the page is not ready
                log.warning(
                    "page of %s not rebuilt after a write: %s: %s", profile_id, type(exc).__name__, exc
                )
                continue
            if keep:
                pages[key] = body
    finally:
        rt.cache.end_write(profile_id, pages, token)


@router.get("/list", response_model=RowOut, responses=ERRORS)
def my_list(profile: OwnedProfile, rt: RuntimeDep) -> RowOut:
    """My List: the titles this profile saved (`add_to_list` events), newest first. A `remove_from_list`
    event, or finishing the title, takes one off."""
    eng = rt.ready_engine()
    return row_out(eng.my_list(context(eng, profile.id)))


@router.get("/search", response_model=PickList, responses=ERRORS)
def search(
    request: Request,
    profile: OwnedProfile,
    rt: RuntimeDep,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["space adventure"])],
    k: K = 20,
) -> PickList:
    """Titles for a query, ordered for this profile. The query is read as a chat message is: a genre,
    person, era or mood filters and ranks by this profile's taste; a title typed in full comes first; a
    description ("the one where the toys come alive") finds the film it describes."""
    eng = rt.ready_engine()
    # The assistant reads, the engine finds: search understands whatever the chat understands.
    intent = search_intent(assistant(request, rt).understanding, q)
    found = eng.search(q, context(eng, profile.id), k=k, intent=intent)
    return pick_list(eng, found)


@router.get("/next", response_model=PickList, responses=ERRORS)
def play_next(
    profile: OwnedProfile,
    rt: RuntimeDep,
    after: Annotated[int, Query(ge=0, description="the title just finished")],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> PickList:
    """What to play after finishing `after`."""
    eng = rt.ready_engine()
    found = eng.post_watch(context(eng, profile.id), after, k=k)
    return pick_list(eng, found)


@router.get("/recommendations", response_model=PickList, responses=ERRORS)
def recommendations(profile: OwnedProfile, rt: RuntimeDep, k: K = 10) -> PickList:
    """One ranked, diversified list (no rows), each pick with its provenance."""
    eng = rt.ready_engine()
    found = eng.recommend(context(eng, profile.id), k=k)
    return pick_list(eng, found)
