"""Synthetic business facts: deterministic, stable under catalog growth, and in the intended proportions."""

from __future__ import annotations

import math

import pytest

from catalog import MATURITY_ORDER, REGIONS, Business, Title, allowed_maturity, derive_business
from catalog.business import DAY, LEAVING_SOON_DAYS, MAX_LICENCE_DAYS

NOW = 1_700_000_000.0


def _titles(ids: range) -> dict[int, Title]:
    return {i: Title(id=i, name=f"Title {i}", year=2000, genres=("Drama",)) for i in ids}


@pytest.fixture(scope="module")
def many() -> dict[int, Business]:
    return derive_business(_titles(range(10_000)), now=NOW)


def test_same_inputs_give_the_same_facts() -> None:
    titles = _titles(range(200))
    assert derive_business(titles, now=NOW) == derive_business(titles, now=NOW)


def test_adding_titles_does_not_reshuffle_the_others() -> None:
    small = derive_business(_titles(range(100)), now=NOW)
    grown = derive_business(_titles(range(100, 5_000)) | _titles(range(100)), now=NOW)
    assert all(grown[i] == small[i] for i in small)


def test_the_seed_changes_the_draws() -> None:
    titles = _titles(range(500))
    assert derive_business(titles, now=NOW, seed=7) != derive_business(titles, now=NOW, seed=8)


def test_proportions_are_near_their_targets(many: dict[int, Business]) -> None:
    n = len(many)
    originals = sum(b.original for b in many.values()) / n
    licensed = [b for b in many.values() if not b.original]
    soon = sum(b.licence_expires - NOW < LEAVING_SOON_DAYS * DAY for b in licensed) / len(licensed)
    assert originals == pytest.approx(0.04, abs=0.01)
    assert soon == pytest.approx(0.06, abs=0.01)
    for region in REGIONS:
        share = sum(region in b.regions for b in many.values()) / n
        assert share == pytest.approx(1.0 if region == "US" else 0.8, abs=0.02), region


def test_licences_fall_in_the_window_and_spread_over_it(many: dict[int, Business]) -> None:
    days = [(b.licence_expires - NOW) / DAY for b in many.values() if not b.original]
    assert all(0.0 <= d <= MAX_LICENCE_DAYS for d in days)
    later = [d for d in days if d >= LEAVING_SOON_DAYS]
    midpoint = (LEAVING_SOON_DAYS + MAX_LICENCE_DAYS) / 2
    assert sum(d < midpoint for d in later) / len(later) == pytest.approx(0.5, abs=0.03)


def test_originals_never_expire_and_us_is_always_present(many: dict[int, Business]) -> None:
    assert all(math.isinf(b.licence_expires) for b in many.values() if b.original)
    assert all("US" in b.regions for b in many.values())
    assert all(b.regions == tuple(r for r in REGIONS if r in b.regions) for b in many.values())


def test_leaving_soon_is_relative_to_now(many: dict[int, Business]) -> None:
    soon = [b for b in many.values() if b.expiring_within(LEAVING_SOON_DAYS * DAY, now=NOW)]
    assert soon
    assert not any(b.original for b in soon)


def test_maturity_prefers_the_mpaa_rating() -> None:
    titles = {1: Title(id=1, name="Up", year=2009, genres=("Animation",), maturity="PG")}
    assert derive_business(titles, now=NOW)[1].maturity == "PG"


@pytest.mark.parametrize(
    ("genres", "expected"),
    [
        (("Animation", "Comedy"), "G"),
        (("Children",), "G"),
        (("Children's", "Musical"), "G"),
        (("Horror", "Thriller"), "R"),
        (("Animation", "Horror"), "R"),  # the stricter rating wins
        (("Drama",), "PG-13"),
        ((), "PG-13"),
    ],
)
def test_maturity_falls_back_to_genres(genres: tuple[str, ...], expected: str) -> None:
    titles = {1: Title(id=1, name="X", year=None, genres=genres, maturity=None)}
    assert derive_business(titles, now=NOW)[1].maturity == expected


def test_allowed_maturity() -> None:
    assert allowed_maturity(None) == MATURITY_ORDER
    assert allowed_maturity("G") == ("G",)
    assert allowed_maturity("PG-13") == ("G", "PG", "PG-13")
    assert allowed_maturity("NC-17") == MATURITY_ORDER
    with pytest.raises(ValueError, match=r"'TV-MA'.*G, PG, PG-13, R, NC-17"):
        allowed_maturity("TV-MA")
