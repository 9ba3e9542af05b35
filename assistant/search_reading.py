"""A search box query read the way a chat message is read, handed to the engine as a `SearchIntent`.

Only the reader's public output (the preference update it returns) is used, so whatever the reader
learns to understand, search understands too. The engine never reads language itself (it sits below
the assistant); the API route composes the two.
"""

from __future__ import annotations

from assistant.understanding import Understanding
from engine import SearchIntent


def search_intent(understanding: Understanding, query: str) -> SearchIntent:
    """The query's genres, people, era, length and audience as filters; the titles it names; its moods
    and descriptive words as the text to match. Disliked or excluded titles are not searched for."""
    update = understanding.read(query).update
    return SearchIntent(
        genres=tuple(update.genres),
        exclude_genres=tuple(update.exclude_genres),
        people=tuple(update.people),
        year_min=update.year_min,
        year_max=update.year_max,
        max_runtime=update.max_runtime,
        maturity_limit=update.maturity_limit,
        titles=tuple(dict.fromkeys([*update.liked_titles, *update.seen_titles])),
        text=", ".join(update.moods),
    )
