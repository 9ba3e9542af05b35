"""Engine results as response models: the one place that knows both shapes."""

from __future__ import annotations

from api.models import Artwork, Pick, PickList, ProfileOut, RowItemOut, RowOut, TitleOut
from engine import Picks, Profile, Recommendation, Row, Title

DEFAULT_VARIANT = "title_card"


def artwork(title_id: int, variant: str) -> Artwork:
    # A relative URL: right behind any proxy or host name the client used to reach us.
    return Artwork(variant=variant, url=f"/v1/titles/{title_id}/artwork/{variant}.svg")


def profile_out(p: Profile) -> ProfileOut:
    return ProfileOut(
        id=p.id, name=p.name, maturity_limit=p.maturity_limit, language=p.language, region=p.region
    )


def row_out(row: Row) -> RowOut:
    items = [
        RowItemOut(
            title_id=i.title_id,
            name=i.name,
            year=i.year,
            explanation=i.explanation,
            reason=dict(i.reason),
            artwork=artwork(i.title_id, i.artwork),
        )
        for i in row.items
    ]
    return RowOut(id=row.id, heading=row.heading, kind=row.kind, items=items)


def pick_out(r: Recommendation) -> Pick:
    t = r.title
    return Pick(
        title_id=t.id,
        name=t.name,
        year=t.year,
        genres=list(t.genres),
        score=r.score,
        explanation=r.explanation,
        sources=list(r.sources),
        artwork=artwork(t.id, DEFAULT_VARIANT),
    )


def pick_list(found: Picks) -> PickList:
    """Picks, flagged degraded when the ranker is away or the request's lists came from popularity
    because the title index was."""
    return PickList(results=[pick_out(r) for r in found], degraded=found.degraded)


def title_out(t: Title, variants: tuple[str, ...]) -> TitleOut:
    return TitleOut(
        id=t.id,
        name=t.name,
        year=t.year,
        genres=list(t.genres),
        overview=t.overview,
        runtime=t.runtime,
        maturity=t.maturity,
        directors=list(t.directors),
        cast=list(t.cast),
        artwork=[artwork(t.id, v) for v in variants],
    )
