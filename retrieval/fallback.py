"""Degraded mode: when the title index cannot be reached, the most popular titles, filtered in memory.

Filters normally run inside Qdrant; this is the one place they run in Python, because there is no
Qdrant to run them in. It keeps every promise a filter makes (seen, disliked, maturity, region, genre,
year, runtime), so a degraded page is still a safe one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog import Business, Context, Title
from retrieval.candidates import Candidate
from retrieval.filters import title_filter
from retrieval.index import TitleFilter


@dataclass
class PopularityFallback:
    titles: Mapping[int, Title]
    popularity: Mapping[int, float]
    business: Mapping[int, Business]
    name: str = "popular"
    _order: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self._order = sorted(self.titles, key=lambda t: (-self.popularity.get(t, 0.0), t))

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        where = title_filter(context)
        out: list[Candidate] = []
        for title_id in self._order:
            if len(out) >= k:
                break
            if self.passes(title_id, where):
                score = self.popularity.get(title_id, 0.0)
                out.append(Candidate(title_id, self.name, score, len(out), "Popular on Marquee"))
        return out

    def passes(self, title_id: int, where: TitleFilter) -> bool:
        """Whether a title meets the filter, judged in memory exactly as the index would judge it."""
        title, business = self.titles[title_id], self.business.get(title_id)
        genres = set(title.genres)
        checks = (
            title_id not in where.exclude_ids,
            not where.genres_any or bool(genres & set(where.genres_any)),
            not genres & set(where.genres_none),
            where.year_min is None or (title.year is not None and title.year >= where.year_min),
            where.year_max is None or (title.year is not None and title.year <= where.year_max),
            where.max_runtime is None or (title.runtime is not None and title.runtime <= where.max_runtime),
            not where.maturity_in or (business is not None and business.maturity in where.maturity_in),
            where.region is None or (business is not None and where.region in business.regions),
        )
        return all(checks)
