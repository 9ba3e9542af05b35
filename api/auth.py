"""API keys: issued once at account creation, stored only as a SHA-256 hash, sent as `X-API-Key`.

Keys are 256 random bits, so one unsalted hash is safe to store and lets a lookup be a single index hit.
A profile of another account is answered exactly like a profile that does not exist (404), so a key
cannot even learn which ids are taken.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError, not_found
from api.owners import ProfileRef
from api.ratelimit import retry_after
from api.runtime import runtime
from engine import Profile

KEY_PREFIX = "mq_"
_bearer = HTTPBearer(auto_error=False, description="the same key, as OpenAI clients send it")


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class _AccountKey(APIKeyHeader):
    """The `X-API-Key` scheme, resolving to the id of the account whose key the request carries.

    The key may also come as `Authorization: Bearer <key>`, which is how OpenAI clients send theirs.
    401 without a valid key, 429 over its rate. Checking the key here, in the scheme, rather than in a
    dependency over it spares FastAPI a dependency pass on every request (about a tenth of a cached page's
    CPU), and still refuses a bad key before any path parameter is validated.
    """

    # Async on purpose: on SQLite the read is microseconds, cheaper on the event loop than a hop to the
    # worker-thread pool; on PostgreSQL `Owners` makes it on a thread and keeps the answer (api/owners.py).
    async def __call__(self, request: Request) -> str:  # type: ignore[override]
        bearer = await _bearer(request)
        key = await super().__call__(request) or (bearer.credentials if bearer is not None else None)
        if not key:
            raise ApiError(
                401, "missing API key; send the key from POST /v1/accounts as X-API-Key", field="X-API-Key"
            )
        rt = await runtime(request)
        key_hash = hash_key(key)
        rt.ready_engine()
        account_id = await rt.owners.key_owner(key_hash)
        if account_id is None:
            raise ApiError(
                401, "invalid API key; create an account with POST /v1/accounts", field="X-API-Key"
            )
        wait = rt.limiter.take(key_hash)
        if wait > 0:
            limit = int(rt.limiter.capacity)
            raise ApiError(
                429,
                f"rate limit of {limit} requests a minute exceeded",
                headers={"Retry-After": retry_after(wait)},
            )
        return account_id


_account_key = _AccountKey(
    name="X-API-Key",
    scheme_name="APIKeyHeader",
    auto_error=False,
    description="the key POST /v1/accounts returned",
)
# Declared next to the key so the OpenAPI document lists both ways of sending it; `_AccountKey` reads both.
_Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


async def current_account(account_id: Annotated[str, Security(_account_key)], _: _Bearer = None) -> str:
    """The id of the account the request's key belongs to (see `_AccountKey`)."""
    return account_id


AccountId = Annotated[str, Depends(current_account)]


async def owned_profile(
    profile_id: Annotated[str, Path(min_length=1, max_length=64)],
    account_id: Annotated[str, Security(_account_key)],
    request: Request,
    _: _Bearer = None,
) -> Profile:
    """The profile as stored now: for the routes that answer with it or change it."""
    # The account comes from the scheme directly, not through `current_account`: one dependency pass less.
    profile = await (await runtime(request)).owners.profile(profile_id)
    if profile is None or profile.account_id != account_id:
        raise not_found("profile", profile_id)
    return profile


async def owned_profile_ref(
    profile_id: Annotated[str, Path(min_length=1, max_length=64)],
    account_id: Annotated[str, Security(_account_key)],
    request: Request,
    _: _Bearer = None,
) -> ProfileRef:
    """The profile's id, its owner checked (and on shared stores kept a while, api/owners.py): for the
    routes whose work reads the profile anyway, and so answer 404 once it is gone."""
    profile = await (await runtime(request)).owners.profile_ref(profile_id)
    if profile is None or profile.account_id != account_id:
        raise not_found("profile", profile_id)
    return profile


OwnedProfile = Annotated[Profile, Depends(owned_profile)]
OwnedProfileRef = Annotated[ProfileRef, Depends(owned_profile_ref)]
