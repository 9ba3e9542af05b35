"""Request and response bodies of the HTTP API: the OpenAPI spec is generated from these."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine import MATURITY_RATINGS, REGIONS, VARIANTS, EventKind, normalize_maturity, package_version

Name = Annotated[str, Field(min_length=1, max_length=64)]
ContextValue = str | int | float
MAX_CLOCK_SKEW_S = 86_400.0
Variant = Literal[VARIANTS]  # type: ignore[valid-type]


class _Strict(BaseModel):
    # Unknown fields are a client bug worth hearing about, not something to ignore silently.
    model_config = ConfigDict(extra="forbid")


# --- errors ---------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    type: str = Field(examples=["validation_error"])
    message: str = Field(examples=["events.3.title_id: unknown title 999999"])
    field: str | None = Field(None, examples=["events.3.title_id"])
    param: str | None = Field(None, description="the same as field (OpenAI's name for it)")
    code: str | None = Field(None, description="the same as type (OpenAI's name for it)")


class ErrorOut(BaseModel):
    error: ErrorDetail


# --- accounts and profiles ------------------------------------------------------------------------


class AccountIn(_Strict):
    name: Name = Field("account", examples=["The Smiths"])


class AccountOut(BaseModel):
    account_id: str
    api_key: str = Field(description="Shown once; only its hash is stored. Send it as X-API-Key.")


def _maturity(value: str | None) -> str | None:
    if value is None:
        return None
    rating = normalize_maturity(value)
    if rating is None:
        raise ValueError(f"unknown maturity rating {value!r}; valid: {', '.join(MATURITY_RATINGS)}")
    return rating


def _region(value: str | None) -> str | None:
    if value is not None and value.upper() not in REGIONS:
        raise ValueError(f"unknown region {value!r}; valid: {', '.join(REGIONS)}")
    return value.upper() if value is not None else None


class ProfileIn(_Strict):
    name: Name = Field(examples=["Kids"])
    maturity_limit: str | None = Field(None, description=f"one of {', '.join(MATURITY_RATINGS)}")
    language: str = Field("en", min_length=2, max_length=16, examples=["en"])
    region: str = Field("US", description=f"one of {', '.join(REGIONS)}")

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Kids", "maturity_limit": "PG"}]}
    )

    _check_maturity = field_validator("maturity_limit")(_maturity)
    _check_region = field_validator("region")(_region)


class ProfileUpdate(_Strict):
    """Only the fields sent change; `maturity_limit: null` removes the limit."""

    name: Name | None = None
    maturity_limit: str | None = None
    language: str | None = Field(None, min_length=2, max_length=16)
    region: str | None = None

    _check_maturity = field_validator("maturity_limit")(_maturity)
    _check_region = field_validator("region")(_region)


class ProfileOut(BaseModel):
    id: str
    name: str
    maturity_limit: str | None
    language: str
    region: str


class ProfileList(BaseModel):
    profiles: list[ProfileOut]


# --- titles ---------------------------------------------------------------------------------------


class Artwork(BaseModel):
    variant: str = Field(examples=["mood"])
    url: str = Field(examples=["/v1/titles/1/artwork/mood.svg"])


class TitleOut(BaseModel):
    id: int
    name: str
    year: int | None
    genres: list[str]
    overview: str
    runtime: int | None
    maturity: str | None
    directors: list[str]
    cast: list[str]
    artwork: list[Artwork]


class Pick(BaseModel):
    """A title in a list (search, similar, next) with why it is there."""

    title_id: int
    name: str
    year: int | None
    genres: list[str]
    score: float
    explanation: str
    sources: list[str]
    artwork: Artwork


class PickList(BaseModel):
    results: list[Pick]
    degraded: bool


# --- rows -----------------------------------------------------------------------------------------


class RowItemOut(BaseModel):
    title_id: int
    name: str
    year: int | None
    explanation: str
    reason: dict[str, Any]
    artwork: Artwork


class RowOut(BaseModel):
    id: str
    heading: str
    kind: str
    items: list[RowItemOut]


class RowsOut(BaseModel):
    rows: list[RowOut]
    variant: str | None = Field(None, description="experiment arm of this profile; null outside experiments")
    degraded: bool = Field(description="true when the ranker is unavailable and rows are in candidate order")


# --- feedback -------------------------------------------------------------------------------------


class EventIn(_Strict):
    event_id: str = Field(min_length=1, max_length=64, description="client id; a repeat is stored once")
    # Strict: `true` or "7" is a client bug, not title 1 or 7.
    title_id: int = Field(strict=True, ge=0, le=2**62)
    kind: EventKind
    value: float | None = Field(
        None, strict=True, allow_inf_nan=False, description="progress fraction, seconds, ..."
    )
    ts: float | None = Field(
        None, strict=True, ge=0, description="unix seconds, at most a day ahead of the server; default: now"
    )
    context: dict[Annotated[str, Field(max_length=64)], ContextValue] | None = Field(None, max_length=32)
    row: str | None = Field(None, max_length=128, description="the UI row the title was shown in")
    artwork: Variant | None = Field(None, description="the artwork variant shown (impressions)")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"event_id": "e-1", "title_id": 1, "kind": "play", "context": {"device": "tv"}}]
        },
    )

    @field_validator("ts")
    @classmethod
    def _not_future(cls, ts: float | None) -> float | None:
        # A day of clock skew is tolerated; a time further ahead would sort above every real event forever.
        if ts is not None and ts > time.time() + MAX_CLOCK_SKEW_S:
            raise ValueError("must not be more than a day in the future")
        return ts

    @field_validator("context")
    @classmethod
    def _finite(cls, value: dict[str, ContextValue] | None) -> dict[str, ContextValue] | None:
        for key, item in (value or {}).items():
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError(f"context value of {key!r} must be finite")
        return value


class EventBatch(_Strict):
    events: list[EventIn] = Field(min_length=1, max_length=500)


class EventStatus(BaseModel):
    event_id: str
    status: Literal["stored", "duplicate"]


class EventsOut(BaseModel):
    results: list[EventStatus]
    stored: int
    duplicates: int


class OnboardingIn(_Strict):
    genres: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(default=[], max_length=20)
    titles: list[Annotated[int, Field(strict=True, ge=0)]] = Field(default=[], max_length=50)

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"genres": ["Comedy"], "titles": [1]}]}
    )


class OnboardingOut(BaseModel):
    titles: list[int] = Field(description="titles recorded as liked, the named ones and genre seeds")
    stored: int


# --- health ---------------------------------------------------------------------------------------


# --- the operator's catalog writes -----------------------------------------------------------------

Names = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=30)]


class TitlePatch(_Strict):
    """Fields of a title to change; those left out keep their value."""

    name: str | None = Field(None, min_length=1, max_length=300)
    year: int | None = Field(None, ge=1850, le=2100)
    genres: Names | None = None
    overview: str | None = Field(None, max_length=5000, description="plot or description: what is embedded")
    directors: Names | None = None
    cast: Names | None = None
    runtime: int | None = Field(None, ge=1, le=1000, description="minutes")
    maturity: str | None = Field(None, description=f"one of {', '.join(MATURITY_RATINGS)}")

    _check_maturity = field_validator("maturity")(_maturity)

    def fields(self) -> dict[str, Any]:
        """The fields given, as a Title takes them (lists as tuples)."""
        given = self.model_dump(exclude_unset=True, exclude={"id"})
        return {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}


class TitleIn(TitlePatch):
    """A new title; `id` defaults to one past the largest in the catalog."""

    id: int | None = Field(None, ge=0, le=2**62)
    name: str = Field(min_length=1, max_length=300)  # type: ignore[assignment]

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Harbor Lights",
                    "year": 2018,
                    "genres": ["Drama", "Romance"],
                    "overview": "Two strangers keep a lighthouse running through one long winter.",
                    "runtime": 104,
                    "maturity": "PG-13",
                }
            ]
        },
    )


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    version: str = Field(default_factory=package_version)  # the server's `marquee --version`
    reason: str | None = None
    dataset: str | None = None
    degraded: bool | None = None
    # "starting", "ready" or "failed" (pages are then drafted in the server); None without page workers.
    page_workers: Literal["starting", "ready", "failed"] | None = None
