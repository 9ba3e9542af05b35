"""Finding titles by a typed name: typos and partial names forgiven, descriptions not mistaken for names."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping

from rapidfuzz import fuzz, process, utils

from catalog import Title
from retrieval import Candidate

NAME_MATCH_CUTOFF = 80.0  # below this a name is a different film, not a typo
_ARTICLE = re.compile(r"^(the|a|an) ")


class TitleNames:
    def __init__(self, titles: Mapping[int, Title]) -> None:
        self._ids = [t.id for t in titles.values()]
        self._names = [_plain(t.name) for t in titles.values()]
        # Every name a title goes by ("Seven (a.k.a. Se7en)" is also "seven" and "se7en"), each also without
        # its leading article: typing any of them names the title in full. Looked up whole, so the fuzzy
        # pass stays one name per title.
        whole: dict[str, list[int]] = defaultdict(list)
        for t in titles.values():
            plain = [_plain(n) for n in t.names]
            for name in dict.fromkeys([*plain, *(_ARTICLE.sub("", n) for n in plain)]):
                if name:
                    whole[name].append(t.id)
        self._whole = dict(whole)

    def matches(self, query: str, k: int) -> list[Candidate]:
        """Titles whose name the query names, best first, as `title_match` candidates."""
        typed = _plain(query)
        found = process.extract(
            typed, self._names, scorer=_title_score, limit=k, score_cutoff=NAME_MATCH_CUTOFF
        )
        best = dict.fromkeys(self._whole.get(typed, []), 100.0)  # typed in full: first, whatever the fuzz
        for _, score, i in found:
            best.setdefault(self._ids[i], score)
        return [
            Candidate(title_id, "title_match", score / 100.0, rank, f"Title matches “{query}”")
            for rank, (title_id, score) in enumerate(list(best.items())[:k])
        ]


def _plain(text: str) -> str:
    """Lower case, punctuation as spaces, accents off ("Léon" is typed "leon")."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return utils.default_process(folded)


def _title_score(query: str, name: str, **_: object) -> float:
    """How well a typed query names a title: a query inside a longer name ("matrix" in "the matrix
    reloaded") scores by where it fits best, with the closest whole name first; a query longer than the
    name must match it as a whole, so a descriptive request does not match short names by accident."""
    if len(query) <= len(name):
        return 0.9 * fuzz.partial_ratio(query, name) + 0.1 * fuzz.ratio(query, name)
    return fuzz.ratio(query, name)
