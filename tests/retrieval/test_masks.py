"""FilterMasks (retrieval/masks.py): the vectorized, kept masks allow exactly the titles the index's rules
do, read one title at a time, for every kind of condition and their combinations."""

from __future__ import annotations

import itertools
import random

import numpy as np

from catalog import Business, Title
from retrieval.index import TitleFilter
from retrieval.masks import FilterMasks

GENRES = ("Action", "Comedy", "Drama", "Horror")
RATINGS = ("G", "PG", "PG-13", "R")
REGIONS = ("US", "FR", "JP")


def catalog(n: int, seed: int) -> tuple[list[Title | None], list[Business | None]]:
    rng = random.Random(seed)
    titles: list[Title | None] = []
    facts: list[Business | None] = []
    for i in range(n):
        if rng.random() < 0.1:
            titles.append(None)
        else:
            titles.append(
                Title(
                    id=i,
                    name=f"t{i}",
                    year=rng.choice([None, 1970, 1995, 2010, 2020]),
                    genres=tuple(rng.sample(GENRES, rng.randint(0, 2))),
                    runtime=rng.choice([None, 80, 120, 180]),
                    maturity=rng.choice([None, *RATINGS]),
                )
            )
        regions = tuple(rng.sample(REGIONS, rng.randint(1, 2)))
        facts.append(None if rng.random() < 0.2 else Business(False, 2e9, regions, rng.choice(RATINGS)))
    return titles, facts


def one_by_one(title: Title | None, fact: Business | None, where: TitleFilter) -> bool:
    """The rules as the index applies them to one title's payload."""
    if title is None:
        return False
    genres = set(title.genres)
    maturity = fact.maturity if fact is not None else title.maturity
    regions = set(fact.regions) if fact is not None else set()
    return (
        (not where.genres_any or bool(genres & set(where.genres_any)))
        and not genres & set(where.genres_none)
        and (where.year_min is None or (title.year is not None and title.year >= where.year_min))
        and (where.year_max is None or (title.year is not None and title.year <= where.year_max))
        and (where.max_runtime is None or (title.runtime is not None and title.runtime <= where.max_runtime))
        and (not where.maturity_in or maturity in where.maturity_in)
        and (where.region is None or where.region in regions)
    )


def filters() -> list[TitleFilter]:
    choices = [
        [(), ("Comedy",), ("Action", "Horror"), ("Musical",)],  # genres_any: a genre nobody has too
        [(), ("Drama",)],  # genres_none
        [None, 1990],  # year_min
        [None, 2015],  # year_max
        [None, 120],  # max_runtime
        [(), ("G", "PG"), ("NC-17",)],  # maturity_in
        [None, "US", "JP", "BR"],  # region: one no title is licensed in
    ]
    return [
        TitleFilter(
            genres_any=a, genres_none=b, year_min=c, year_max=d, max_runtime=e, maturity_in=f, region=g
        )
        for a, b, c, d, e, f, g in itertools.product(*choices)
    ]


def test_masks_allow_exactly_what_the_rules_allow_title_by_title() -> None:
    titles, facts = catalog(300, seed=3)
    masks = FilterMasks(titles, facts)
    for where in filters():
        expected = np.array([one_by_one(t, f, where) for t, f in zip(titles, facts, strict=True)])
        np.testing.assert_array_equal(masks.allowed(where), expected, err_msg=repr(where))
        np.testing.assert_array_equal(masks.allowed(where), expected, err_msg=f"kept: {where!r}")


def test_a_kept_mask_is_a_copy_and_excluded_ids_do_not_split_the_cache() -> None:
    titles, facts = catalog(50, seed=4)
    masks = FilterMasks(titles, facts)
    where = TitleFilter(region="US")
    first = masks.allowed(where)
    first[:] = False  # the caller's to change: the kept mask is untouched
    again = masks.allowed(TitleFilter(region="US", exclude_ids=frozenset({1, 2})))
    expected = [one_by_one(t, f, where) for t, f in zip(titles, facts, strict=True)]
    assert again.tolist() == expected and any(expected)
