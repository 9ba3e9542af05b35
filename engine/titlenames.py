"""Finding titles by a typed name: typos and partial names forgiven, descriptions not mistaken for names."""

from __future__ import annotations

from collections.abc import Mapping

from rapidfuzz import fuzz, process, utils

from catalog import Title
from retrieval import Candidate

NAME_MATCH_CUTOFF = 80.0  # below this a name is a different film, not a typo


class TitleNames:
    def __init__(self, titles: Mapping[int, Title]) -> None:
        self._ids = [t.id for t in titles.values()]
        self._names = [utils.default_process(t.name) for t in titles.values()]

    def matches(self, query: str, k: int) -> list[Candidate]:
        """Titles whose name the query names, best first, as `title_match` candidates."""
        found = process.extract(
            utils.default_process(query),
            self._names,
            scorer=_title_score,
            limit=k,
            score_cutoff=NAME_MATCH_CUTOFF,
        )
        return [
            Candidate(self._ids[i], "title_match", score / 100.0, rank, f"Title matches “{query}”")
            for rank, (_, score, i) in enumerate(found)
        ]


def _title_score(query: str, name: str, **_: object) -> float:
    """How well a typed query names a title: a query inside a longer name ("matrix" in "the matrix
    reloaded") scores by where it fits best, with the closest whole name first; a query longer than the
    name must match it as a whole, so a descriptive request does not match short names by accident."""
    if len(query) <= len(name):
        return 0.9 * fuzz.partial_ratio(query, name) + 0.1 * fuzz.ratio(query, name)
    return fuzz.ratio(query, name)
