"""Titles: details, artwork images and more-like-this."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.auth import AccountId
from api.errors import ApiError, not_found
from api.models import ErrorOut, PickList, TitleOut
from api.runtime import RuntimeDep
from api.views import pick_list, title_out
from engine import VARIANTS, Engine, Title, render_artwork, variants_for

router = APIRouter(prefix="/v1/titles", tags=["titles"])
TitleId = Annotated[int, Path(ge=0, le=2**62)]
ERRORS = {
    401: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
    429: {"model": ErrorOut},
}


def _title(eng: Engine, title_id: int) -> Title:
    title = eng.titles().get(title_id)
    if title is None:
        raise not_found("title", title_id)
    return title


@router.get("/{title_id}", response_model=TitleOut, responses=ERRORS)
def get_title(title_id: TitleId, rt: RuntimeDep, _: AccountId) -> TitleOut:
    title = _title(rt.ready_engine(), title_id)
    return title_out(title, variants_for(title))


@router.get(
    "/{title_id}/artwork/{variant}.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, 404: {"model": ErrorOut}},
)
def artwork(title_id: TitleId, variant: Annotated[str, Path(max_length=32)], rt: RuntimeDep) -> Response:
    """One artwork variant as SVG. No key needed: browsers load it from an <img> tag."""
    title = _title(rt.ready_engine(), title_id)
    if variant not in VARIANTS:
        raise ApiError(
            404, f"unknown artwork variant {variant!r}; valid: {', '.join(VARIANTS)}", field="variant"
        )
    return Response(
        render_artwork(title, variant),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},  # deterministic per (title, variant)
    )


@router.get("/{title_id}/similar", response_model=PickList, responses=ERRORS)
def similar(
    title_id: TitleId,
    rt: RuntimeDep,
    account_id: AccountId,
    profile_id: Annotated[
        str | None, Query(max_length=64, description="personalize for this profile")
    ] = None,
    k: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PickList:
    """More like one title; with a profile (of this account), its seen and disliked titles left out."""
    eng = rt.ready_engine()
    _title(eng, title_id)
    ctx = None
    if profile_id is not None:
        profile = eng.accounts().profile(profile_id)
        if profile is None or profile.account_id != account_id:
            raise not_found("profile", profile_id)
        ctx = eng.profile_context(profile.id)
    found = eng.similar(title_id, ctx, k=k)
    return pick_list(found)
