"""What a conversation has learned the viewer wants, and how that becomes the engine's constraints."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from engine import Constraints, allowed_maturity

T = TypeVar("T")
MAX_LISTED = 50  # per list: a conversation names a handful of titles, never thousands


class Preferences(BaseModel):
    """Elicited preferences of one conversation. Every field is optional: silence means no constraint."""

    model_config = ConfigDict(extra="forbid")

    genres: list[str] = Field(default_factory=list, max_length=MAX_LISTED)
    exclude_genres: list[str] = Field(default_factory=list, max_length=MAX_LISTED)
    moods: list[str] = Field(default_factory=list, max_length=MAX_LISTED)
    liked_titles: list[int] = Field(default_factory=list, max_length=MAX_LISTED)
    disliked_titles: list[int] = Field(default_factory=list, max_length=MAX_LISTED)
    seen_titles: list[int] = Field(default_factory=list, max_length=MAX_LISTED)
    people: list[str] = Field(default_factory=list, max_length=MAX_LISTED)
    exclude_people: list[str] = Field(default_factory=list, max_length=MAX_LISTED)  # a filter, not a hope
    avoid_moods: list[str] = Field(default_factory=list, max_length=MAX_LISTED)  # "too violent": filtered
    year_min: int | None = Field(None, ge=1870, le=2100)
    year_max: int | None = Field(None, ge=1870, le=2100)
    max_runtime: int | None = Field(None, ge=30, le=600)
    maturity_limit: str | None = None
    audience: str | None = Field(None, max_length=40)  # who is watching: "kids", "family", "date", ...

    def specific(self) -> bool:
        """True when the viewer has said anything to recommend from: a wish, or a ruling-out ("anything but
        comedy" is answered from the profile's taste without that genre)."""
        return bool(
            self.genres
            or self.moods
            or self.liked_titles
            or self.people
            or self.exclude_genres
            or self.exclude_people
            or self.avoid_moods
            or self.year_min
            or self.year_max
            or self.max_runtime
            or self.audience
        )

    def merged(self, update: PreferenceUpdate) -> Preferences:
        """These preferences with `update` applied: lists grow (newest last), scalars are replaced, and a
        genre moves between wanted and unwanted when the viewer changes their mind."""
        genres = _added(_removed(self.genres, update.exclude_genres), update.genres)
        excluded = _added(_removed(self.exclude_genres, update.genres), update.exclude_genres)
        disliked = _added(self.disliked_titles, update.disliked_titles)
        liked = _added(_removed(self.liked_titles, update.disliked_titles), update.liked_titles)
        data = self.model_dump()
        data |= {
            "genres": genres,
            "exclude_genres": excluded,
            "moods": _added(_removed(self.moods, update.avoid_moods), update.moods),
            "avoid_moods": _added(_removed(self.avoid_moods, update.moods), update.avoid_moods),
            "liked_titles": liked,
            "disliked_titles": disliked,
            "seen_titles": _added(self.seen_titles, update.seen_titles),
            "people": _added(_removed(self.people, update.exclude_people), update.people),
            "exclude_people": _added(_removed(self.exclude_people, update.people), update.exclude_people),
        }
        for name in ("year_min", "year_max", "max_runtime", "maturity_limit", "audience"):
            value = getattr(update, name)
            if value is not None:
                data[name] = value
        # The newest word on the era wins: "from the 60s" then "something after 2000" is 2000 on.
        if (
            data["year_min"] is not None
            and data["year_max"] is not None
            and data["year_min"] > data["year_max"]
        ):
            stale = "year_max" if update.year_min is not None else "year_min"
            data[stale] = None
        return Preferences.model_validate(data)

    def mood_text(self) -> str:
        """What the content index searches for: the moods, framed by the genres ("dark, comedy"), and the
        people asked for (title documents name directors and stars)."""
        if not self.moods and not self.people:
            return ""
        people = [f"with {p}" for p in self.people[-2:]]
        return ", ".join([*self.moods[-3:], *(g.lower() for g in self.genres), *people])

    def constraints(self, base: Constraints, *, exclude: frozenset[int] = frozenset()) -> Constraints:
        """The profile's own constraints (its maturity limit) narrowed by these preferences."""
        maturity = base.maturity
        if self.maturity_limit is not None:
            allowed = set(allowed_maturity(self.maturity_limit))
            maturity = tuple(m for m in (maturity or allowed_maturity(None)) if m in allowed)
        return Constraints(
            genres=tuple(self.genres),
            exclude_genres=tuple(self.exclude_genres),
            year_min=self.year_min,
            year_max=self.year_max,
            max_runtime=self.max_runtime,
            maturity=maturity,
            exclude_titles=base.exclude_titles
            | exclude
            | frozenset(self.seen_titles)
            | frozenset(self.disliked_titles)
            | frozenset(self.liked_titles),
            reference_titles=tuple(self.liked_titles[-3:]),
            mood=self.mood_text(),
        )


class PreferenceUpdate(BaseModel):
    """A change to the preferences, as a tool call or the offline parser states it."""

    model_config = ConfigDict(extra="forbid")

    genres: list[str] = Field(default_factory=list, max_length=10)
    exclude_genres: list[str] = Field(default_factory=list, max_length=10)
    moods: list[str] = Field(default_factory=list, max_length=10)
    liked_titles: list[int] = Field(default_factory=list, max_length=10)
    disliked_titles: list[int] = Field(default_factory=list, max_length=10)
    seen_titles: list[int] = Field(default_factory=list, max_length=20)
    people: list[str] = Field(default_factory=list, max_length=10)
    exclude_people: list[str] = Field(default_factory=list, max_length=10)
    avoid_moods: list[str] = Field(default_factory=list, max_length=10)
    year_min: int | None = Field(None, ge=1870, le=2100)
    year_max: int | None = Field(None, ge=1870, le=2100)
    max_runtime: int | None = Field(None, ge=30, le=600)
    maturity_limit: str | None = None
    audience: str | None = Field(None, max_length=40)

    def empty(self) -> bool:
        return self == PreferenceUpdate()


def _added(items: list[T], new: list[T]) -> list[T]:
    kept = [i for i in items if i not in new]
    return (kept + list(dict.fromkeys(new)))[-MAX_LISTED:]


def _removed(items: list[T], gone: list[T]) -> list[T]:
    return [i for i in items if i not in gone]
