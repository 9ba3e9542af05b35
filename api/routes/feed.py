"""What a profile sees: homepage rows, search, what to play next."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.assistants import assistant
from api.auth import OwnedProfileRef
from api.contexts import context
from api.models import ErrorOut, PickList, RowOut, RowsOut
from api.runtime import RuntimeDep
from api.views import pick_list, row_out
from assistant.search_reading import search_intent
from engine import REGIONS

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


@router.get("/rows", response_model=RowsOut, responses=ERRORS)
async def rows(
    profile: OwnedProfileRef,
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
    body, outcome = await rt.pages.get(profile.id, (device, region, hour))
    return Response(body, media_type="application/json", headers={"X-Cache": outcome})


@router.get("/list", response_model=RowOut, responses=ERRORS)
def my_list(profile: OwnedProfileRef, rt: RuntimeDep) -> RowOut:
    """My List: the titles this profile saved (`add_to_list` events), newest first. A `remove_from_list`
    event, or finishing the title, takes one off."""
    eng = rt.ready_engine()
    return row_out(eng.my_list(context(eng, profile.id)))


@router.get("/search", response_model=PickList, responses=ERRORS)
def search(
    request: Request,
    profile: OwnedProfileRef,
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
    return pick_list(found)


@router.get("/next", response_model=PickList, responses=ERRORS)
def play_next(
    profile: OwnedProfileRef,
    rt: RuntimeDep,
    after: Annotated[int, Query(ge=0, description="the title just finished")],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> PickList:
    """What to play after finishing `after`."""
    eng = rt.ready_engine()
    found = eng.post_watch(context(eng, profile.id), after, k=k)
    return pick_list(found)


@router.get("/recommendations", response_model=PickList, responses=ERRORS)
def recommendations(profile: OwnedProfileRef, rt: RuntimeDep, k: K = 10) -> PickList:
    """One ranked, diversified list (no rows), each pick with its provenance."""
    eng = rt.ready_engine()
    found = eng.recommend(context(eng, profile.id), k=k)
    return pick_list(found)
