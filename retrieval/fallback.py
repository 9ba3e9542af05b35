"""Degraded mode: when the title index cannot be reached, the most popular titles, filtered in memory.

Filters normally run inside Qdrant; this is the one place they run in Python, because there is no
Qdrant to run them in. It evaluates the filter's own conditions (`TitleFilter.admits`) on the payload the
index would hold, so it keeps every promise a filter makes (seen, disliked, maturity, region, genre,
year, runtime) and a degraded page is still a safe one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from catalog import Business, Context, Title
from retrieval.candidates import Candidate
from retrieval.filters import title_filter
from retrieval.index import TitleFilter
from retrieval.indexing import filter_payload


@dataclass
class PopularityFallback:
    titles: Mapping[int, Title]
    popularity: Mapping[int, float]
    business: Mapping[int, Business]
    name: str = "popular"
    _order: list[int] = field(init=False)
    _payloads: dict[int, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self._order = sorted(self.titles, key=lambda t: (-self.popularity.get(t, 0.0), t))
        # The filter fields the index holds for each title, so the filter reads them as Qdrant does.
        self._payloads = {t: filter_payload(title, self.business.get(t)) for t, title in self.titles.items()}

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
        return where.admits(title_id, self._payloads[title_id])
