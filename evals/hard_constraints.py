"""The hard constraints a (simulated) viewer stated, and whether a recommended title keeps them.

Wanted genres mean "any of them", as the engine's genre filter does; `all_genres` says whether a title has
every genre named, the stricter reading of "a sci-fi comedy", reported beside it. A year or runtime limit
is kept only by a title whose year or runtime is known: an unknown runtime does not satisfy "under 2 hours".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol


class Judged(Protocol):
    """What a constraint looks at: a catalog `Title` or an assistant `TitleCard` both have these."""

    @property
    def year(self) -> int | None: ...
    @property
    def runtime(self) -> int | None: ...
    @property
    def genres(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class Stated:
    """Hard constraints said so far in one conversation; empty means none."""

    genres: frozenset[str] = frozenset()
    exclude_genres: frozenset[str] = frozenset()
    year_min: int | None = None
    year_max: int | None = None
    max_runtime: int | None = None
    exclude_titles: frozenset[int] = field(default_factory=frozenset)  # "not Star Wars"

    def empty(self) -> bool:
        return self == Stated()

    def plus(self, other: Stated) -> Stated:
        """Both sets of constraints; a later era or runtime limit replaces an earlier one."""
        return replace(
            self,
            genres=self.genres | other.genres,
            exclude_genres=self.exclude_genres | other.exclude_genres,
            year_min=other.year_min if other.year_min is not None else self.year_min,
            year_max=other.year_max if other.year_max is not None else self.year_max,
            max_runtime=other.max_runtime if other.max_runtime is not None else self.max_runtime,
            exclude_titles=self.exclude_titles | other.exclude_titles,
        )

    def violations(self, title: Judged, title_id: int | None = None) -> list[str]:
        """What `title` breaks, in words; an empty list when it keeps every constraint."""
        genres = set(title.genres)
        out = []
        if self.genres and not genres & self.genres:
            out.append(f"none of the genres {sorted(self.genres)}")
        if genres & self.exclude_genres:
            out.append(f"an excluded genre {sorted(genres & self.exclude_genres)}")
        if self.year_min is not None or self.year_max is not None:
            low, high = self.year_min or 0, self.year_max or 10_000
            if title.year is None or not low <= title.year <= high:
                out.append(f"year {title.year} outside {self.year_min}..{self.year_max}")
        if self.max_runtime is not None and (title.runtime is None or title.runtime > self.max_runtime):
            out.append(f"runtime {title.runtime} over {self.max_runtime} (unknown counts as over)")
        if title_id is not None and title_id in self.exclude_titles:
            out.append("a title ruled out by name")
        return out

    def satisfied_by(self, title: Judged, title_id: int | None = None) -> bool:
        return not self.violations(title, title_id)

    def all_genres(self, title: Judged) -> bool:
        return self.genres <= set(title.genres)
