"""Shilling detection on made-up data: each signal catches its fakes and leaves ordinary fans alone."""

from __future__ import annotations

import numpy as np

from catalog import Interactions
from catalog.shilling import DAY, defend, detect

T0 = 1_000_000_000
HIT, OBSCURE = 1, 999


def _ordinary(users: int = 60) -> list[tuple[int, int, float, int]]:
    """Users joining over two months, each rating the hit and a few others; several join on each day."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(users):
        joined = T0 + (u // 6) * DAY  # six sign-ups a day
        rows.append((u, HIT, 5.0, joined))
        for title in rng.choice(np.arange(10, 60), size=8, replace=False):
            rows.append((u, int(title), float(rng.integers(1, 6)), joined + int(rng.integers(0, 3600))))
    rows += [(u, OBSCURE, 2.0, T0 + u * DAY) for u in (1, 2, 3)]  # the obscure title's few real fans
    return rows


def _interactions(rows: list[tuple[int, int, float, int]]) -> Interactions:
    u, i, r, t = zip(*rows, strict=True)
    return Interactions.from_arrays(np.array(u), np.array(i), np.array(r), np.array(t))


def test_ordinary_users_are_not_flagged() -> None:
    assert detect(_interactions(_ordinary())).flags == {}


def test_a_burst_of_new_accounts_pushing_one_title_is_flagged_with_the_title() -> None:
    rows = _ordinary()
    fakes = range(1000, 1008)
    rng = np.random.default_rng(1)
    for f in fakes:
        joined = T0 + 40 * DAY + int(rng.integers(0, DAY // 2))
        rows.append((f, OBSCURE, 5.0, joined))
        rows += [(f, int(t), 4.0, joined + 60) for t in rng.choice(np.arange(10, 60), size=6, replace=False)]
    report = detect(_interactions(rows))
    assert set(report.flags) == set(fakes)
    assert all(f.reasons == ("burst",) and f.titles == (OBSCURE,) for f in report.flags.values())
    assert report.pushed == {OBSCURE: len(fakes)}
    defended = defend(_interactions(rows), report)
    assert not np.isin(defended.users, list(fakes)).any() and len(defended) == len(_ordinary())


def test_repeats_and_near_identical_histories_are_flagged() -> None:
    rows = _ordinary()
    rows += [(500, 42, 5.0, T0 + 10 * DAY + 60 * k) for k in range(5)]  # one title, five times in minutes
    same = list(range(20, 32))
    rows += [(c, t, 4.0, T0 + c * 7 * DAY) for c in (600, 601, 602) for t in same]  # weeks apart, same lists
    report = detect(_interactions(rows))
    assert report.flags[500].reasons == ("repeats",) and report.flags[500].titles == (42,)
    assert {600, 601, 602} <= set(report.flags)
    assert all(report.flags[c].reasons == ("near_identical",) for c in (600, 601, 602))
    assert set(report.flags) == {500, 600, 601, 602}
    scaled = defend(_interactions(rows), report, weight=0.25)
    assert len(scaled) == len(rows) and np.allclose(scaled.ratings[scaled.users == 600], 1.0)
