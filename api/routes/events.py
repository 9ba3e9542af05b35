"""Feedback: batches of viewing events, and onboarding (cold start) from liked genres and titles."""

from __future__ import annotations

import time

from fastapi import APIRouter

from api.auth import OwnedProfileRef
from api.errors import ApiError
from api.experiments import assign
from api.models import ErrorOut, EventBatch, EventsOut, EventStatus, OnboardingIn, OnboardingOut
from api.runtime import RuntimeDep
from engine import Engine, Event, EventKind, changes_history

router = APIRouter(prefix="/v1/profiles/{profile_id}", tags=["feedback"])
ERRORS = {code: {"model": ErrorOut} for code in (401, 404, 409, 413, 422, 429, 503)}
ONBOARDING_SEEDS = 3  # popular titles liked per genre named without a title of it


def _check_titles(eng: Engine, ids: list[int], field: str) -> None:
    """`field` names where the ids sit, with {i} for the index: "events.{i}.title_id"."""
    # Every id is checked before anything is written: a batch is stored whole or not at all.
    for i, title_id in enumerate(ids):
        if title_id not in eng.titles():
            where = field.format(i=i)
            raise ApiError(422, f"{where}: unknown title {title_id}", field=where)


@router.post("/events", response_model=EventsOut, responses=ERRORS)
def post_events(batch: EventBatch, profile: OwnedProfileRef, rt: RuntimeDep) -> EventsOut:
    """Store a batch of events (all or none). Answers only after they are committed; an event id
    already stored for this profile is reported as a duplicate and not stored again; sent again with a
    different title, kind, value, context or row, the batch is refused (409 naming the field)."""
    eng = rt.ready_engine()
    _check_titles(eng, [e.title_id for e in batch.events], "events.{i}.title_id")
    now = time.time()
    variant = assign(rt.settings, profile.id)
    events = []
    for e in batch.events:
        context = dict(e.context or {})
        if e.artwork is not None:
            context["artwork"] = e.artwork  # where the artwork bandit reads it
        events.append(
            Event(
                event_id=e.event_id,
                profile_id=profile.id,
                title_id=e.title_id,
                kind=e.kind,
                value=e.value,
                ts=now if e.ts is None else e.ts,
                context=context,
                row=e.row,
                variant=variant,
            )
        )
    stored = eng.record(events)
    if changes_history([e for e, new in zip(events, stored, strict=True) if new]):
        rt.pages.rebuild(profile.id)  # the next page shows what was just watched, liked or disliked
    for event, new in zip(events, stored, strict=True):
        if new:
            rt.metrics.events.labels(event.kind.value).inc()
        else:
            rt.metrics.duplicates.inc()
    results = [
        EventStatus(event_id=e.event_id, status="stored" if new else "duplicate")
        for e, new in zip(events, stored, strict=True)
    ]
    n = sum(stored)
    return EventsOut(results=results, stored=n, duplicates=len(stored) - n)


@router.post("/onboarding", response_model=OnboardingOut, responses=ERRORS)
def onboarding(body: OnboardingIn, profile: OwnedProfileRef, rt: RuntimeDep) -> OnboardingOut:
    """Cold start: like the named titles, and for each named genre none of them carries, its most
    popular titles. The next rows are personalized from these at once; nothing is retrained."""
    eng = rt.ready_engine()
    if not body.genres and not body.titles:
        raise ApiError(422, "name at least one genre or title", field="genres")
    known = {g for t in eng.titles().values() for g in t.genres}
    for i, genre in enumerate(body.genres):
        if genre not in known:
            raise ApiError(
                422, f"unknown genre {genre!r}; valid: {', '.join(sorted(known))}", field=f"genres.{i}"
            )
    _check_titles(eng, body.titles, "titles.{i}")
    covered = {g for t in body.titles for g in eng.titles()[t].genres}
    wanted = [g for g in body.genres if g not in covered]
    seeds = eng.popular_in_genres(eng.profile_context(profile.id), wanted, ONBOARDING_SEEDS)
    liked = list(dict.fromkeys([*body.titles, *(t for ids in seeds.values() for t in ids)]))
    now = time.time()
    # Titles the viewer picked are the latest likes, genre seeds a second older: the picks anchor the
    # Because You Watched rows first. Stable ids: onboarding twice with the same picks stores them once.
    events = [
        Event(
            f"onboarding-{t}",
            profile.id,
            t,
            EventKind.THUMB_UP,
            ts=now if t in body.titles else now - 1.0,
            context={"source": "onboarding"},
        )
        for t in liked
    ]
    stored = eng.record(events) if events else []
    rt.pages.rebuild(profile.id)
    for new in stored:
        if new:
            rt.metrics.events.labels(EventKind.THUMB_UP.value).inc()
    return OnboardingOut(titles=liked, stored=sum(stored))
