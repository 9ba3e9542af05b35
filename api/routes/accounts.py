"""Accounts (create, returning the key once) and the account's profiles (CRUD)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.auth import AccountId, OwnedProfile, hash_key, new_key
from api.errors import ApiError
from api.models import AccountIn, AccountOut, ErrorOut, ProfileIn, ProfileList, ProfileOut, ProfileUpdate
from api.ratelimit import retry_after
from api.runtime import EngineDep, RuntimeDep
from api.views import profile_out

router = APIRouter(prefix="/v1", tags=["accounts"])
ERRORS = {
    401: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
    429: {"model": ErrorOut},
}


@router.post(
    "/accounts",
    status_code=201,
    response_model=AccountOut,
    responses={422: {"model": ErrorOut}, 429: {"model": ErrorOut}},
)
def create_account(
    request: Request, rt: RuntimeDep, eng: EngineDep, body: AccountIn | None = None
) -> AccountOut:
    """Create an account. The API key is in this response only: store it, it cannot be shown again.
    Limited per client address: fresh accounts would otherwise step around the per-key rate limit."""
    # Behind a proxy, run uvicorn with --proxy-headers (and --forwarded-allow-ips) so this is the client's.
    address = request.client.host if request.client is not None else "unknown"
    wait = rt.anonymous.take(address)
    if wait > 0:
        raise ApiError(
            429,
            f"at most {int(rt.anonymous.capacity)} accounts a minute from one address",
            headers={"Retry-After": retry_after(wait)},
        )
    key = new_key()
    account = eng.accounts().create_account((body or AccountIn()).name, key_hash=hash_key(key))
    return AccountOut(account_id=account.id, api_key=key)


@router.get("/profiles", response_model=ProfileList, responses=ERRORS)
def list_profiles(eng: EngineDep, account_id: AccountId) -> ProfileList:
    return ProfileList(profiles=[profile_out(p) for p in eng.accounts().profiles(account_id)])


@router.post("/profiles", status_code=201, response_model=ProfileOut, responses=ERRORS)
def create_profile(body: ProfileIn, eng: EngineDep, account_id: AccountId) -> ProfileOut:
    profile = eng.accounts().create_profile(
        account_id, body.name, maturity_limit=body.maturity_limit, language=body.language, region=body.region
    )
    return profile_out(profile)


@router.get("/profiles/{profile_id}", response_model=ProfileOut, responses=ERRORS)
def get_profile(profile: OwnedProfile) -> ProfileOut:
    return profile_out(profile)


@router.patch("/profiles/{profile_id}", response_model=ProfileOut, responses=ERRORS)
def update_profile(body: ProfileUpdate, profile: OwnedProfile, rt: RuntimeDep) -> ProfileOut:
    eng = rt.ready_engine()
    rt.pages.invalidate(profile.id)  # a new maturity limit or region changes the page
    changes = body.model_dump(exclude_unset=True)
    # null is meaningful only for the maturity limit (no limit); elsewhere it means "leave as is".
    changes = {k: v for k, v in changes.items() if v is not None or k == "maturity_limit"}
    return profile_out(eng.accounts().update_profile(profile.id, **changes) if changes else profile)


@router.delete("/profiles/{profile_id}", status_code=204, responses=ERRORS)
def delete_profile(profile: OwnedProfile, rt: RuntimeDep) -> Response:
    """Delete a profile and all of its events."""
    rt.ready_engine().accounts().delete_profile(profile.id)
    rt.owners.forget_profile(profile.id)
    rt.pages.invalidate(profile.id)
    return Response(status_code=204)
