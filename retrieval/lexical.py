"""Lexical matching of a description against the catalog's text: plot, tagline, keywords, tags, people.

The embedder finds titles whose text means what a description says; words it blurs (a character's
name, "toys", "shark") are matched here exactly, TF-IDF weighted so rare words count most.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from catalog import Title
from retrieval.candidates import Candidate

LEXICAL = "lexical"
CAST_WORDS = 8  # credits beyond the leads name minor parts nobody describes a film by
_WORD = re.compile(r"[a-z0-9]+")


def lexical_document(title: Title) -> str:
    """The words a viewer may describe a title by; its name is matched elsewhere (TitleNames)."""
    return " ".join(
        (
            title.tagline,
            title.overview,
            *title.keywords,
            *title.tags,
            *title.directors,
            *title.cast[:CAST_WORDS],
        )
    )


def words(text: str) -> list[str]:
    """Lower-case words without stop words, plural and possessive endings cut ("toys" is "toy")."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in ENGLISH_STOP_WORDS or len(word) < 2:
            continue
        out.append(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return out


class LexicalIndex:
    """TF-IDF over every title's text; built once per process on the first description searched."""

    def __init__(self, titles: Mapping[int, Title]) -> None:
        self._ids = np.array(list(titles), dtype=np.int64)
        self._vectorizer = TfidfVectorizer(
            analyzer=words, sublinear_tf=True, min_df=1, dtype=np.float32, norm="l2"
        )
        self._matrix = self._vectorizer.fit_transform([lexical_document(t) for t in titles.values()])

    def matches(self, text: str, k: int, allowed: Callable[[int], bool] | None = None) -> list[Candidate]:
        """Titles whose text shares the description's words, best first, as `lexical` candidates."""
        query = self._vectorizer.transform([text])
        if not query.nnz:
            return []
        scores = (self._matrix @ query.T).toarray().ravel()
        order = np.argsort(-scores, kind="stable")
        out: list[Candidate] = []
        for i in order:
            if scores[i] <= 0 or len(out) >= k:
                break
            title_id = int(self._ids[i])
            if allowed is None or allowed(title_id):
                out.append(Candidate(title_id, LEXICAL, float(scores[i]), len(out), f"Matches “{text}”"))
        return out
