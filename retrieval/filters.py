"""Turn a request's context into the Qdrant filter every candidate query runs with."""

from __future__ import annotations

from catalog import Context
from retrieval.index import TitleFilter


def title_filter(
    context: Context, *, allow_seen: bool = False, extra_genres: tuple[str, ...] = ()
) -> TitleFilter:
    """Seen and disliked titles, explicit exclusions and the hard constraints, as one filter."""
    c = context.constraints
    excluded = frozenset(c.exclude_titles) | context.history.disliked
    if not allow_seen:
        # Usually nothing else is excluded: then the history's own seen set, not a copy, whose hash is
        # computed once however many queries of the request hash this filter.
        seen = context.history.seen()
        excluded = seen if excluded <= seen else excluded | seen
    return TitleFilter(
        exclude_ids=excluded,
        genres_any=tuple(dict.fromkeys(c.genres + extra_genres)),
        genres_none=c.exclude_genres,
        year_min=c.year_min,
        year_max=c.year_max,
        max_runtime=c.max_runtime,
        maturity_in=c.maturity,
        region=context.region,
    )
