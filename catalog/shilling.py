"""Shilling defence: find accounts that look injected to push titles, so their interactions can be
down-weighted in trending, popularity and the training matrix, and listed for an operator.

Three signals, each cheap and each aimed at one way fake profiles betray themselves:
- a burst: many accounts that are new within one window and all rate the same title high, where that
  burst is a large share of all the title's high ratings (an ordinary day's sign-ups liking a hit is a
  small share of the hit's fans; fakes pushing an obscure title are most of its fans);
- repeats: one account acting on the same title again and again within a short window;
- near-identical histories: accounts whose sets of titles are nearly the same as several others'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from catalog.interactions import Interactions

DAY = 86_400


@dataclass(frozen=True)
class ShillingConfig:
    window_s: int = DAY  # accounts whose first interaction falls in one window are "new together"
    min_group: int = 5  # fewer accounts than this are not a burst
    min_share: float = 0.3  # of the title's high ratings that one burst must hold
    high_rating: float = 4.5  # at or above: "pushing" (implicit data: every interaction)
    repeat_window_s: int = 3_600
    max_repeats: int = 3  # more interactions than this with one title within repeat_window_s
    identical_jaccard: float = 0.9
    identical_peers: int = 2  # near-identical to at least this many other accounts
    identical_min_items: int = 5  # shorter histories say too little to compare


@dataclass(frozen=True)
class Flag:
    user: int
    reasons: tuple[str, ...]
    titles: tuple[int, ...]  # the titles it was caught pushing, if any


@dataclass(frozen=True)
class ShillingReport:
    """What was flagged and why: the operator's report, and what `defend` down-weights."""

    flags: dict[int, Flag] = field(default_factory=dict)
    pushed: dict[int, int] = field(default_factory=dict)  # title -> accounts caught pushing it

    @property
    def users(self) -> np.ndarray:
        return np.array(sorted(self.flags), dtype=np.int64)

    def as_dict(self) -> dict[str, object]:
        return {
            "flagged_accounts": len(self.flags),
            "pushed_titles": {str(t): n for t, n in sorted(self.pushed.items(), key=lambda kv: -kv[1])},
            "accounts": [
                {"user": f.user, "reasons": list(f.reasons), "titles": list(f.titles)}
                for f in sorted(self.flags.values(), key=lambda f: f.user)
            ],
        }


def detect(interactions: Interactions, config: ShillingConfig = ShillingConfig()) -> ShillingReport:
    found: dict[int, tuple[set[str], set[int]]] = {}

    def flag(user: int, reason: str, title: int | None = None) -> None:
        reasons, titles = found.setdefault(user, (set(), set()))
        reasons.add(reason)
        if title is not None:
            titles.add(title)

    pushed: dict[int, set[int]] = {}
    if interactions.timed and len(interactions):
        for user, title in _bursts(interactions, config):
            flag(user, "burst", title)
            pushed.setdefault(title, set()).add(user)
        for user, title in _repeats(interactions, config):
            flag(user, "repeats", title)
    for user in _near_identical(interactions, config):
        flag(user, "near_identical")
    flags = {u: Flag(u, tuple(sorted(r)), tuple(sorted(t))) for u, (r, t) in found.items()}
    return ShillingReport(flags=flags, pushed={t: len(us) for t, us in pushed.items()})


def defend(interactions: Interactions, report: ShillingReport, weight: float = 0.0) -> Interactions:
    """The interactions with flagged accounts' down-weighted: dropped at weight 0, else their ratings
    scaled (what the rating-weighted training matrix and the counts read)."""
    flagged = np.isin(interactions.users, report.users)
    if weight <= 0.0:
        return interactions.select(~flagged)
    ratings = interactions.ratings.copy()
    ratings[flagged] *= weight
    return Interactions(interactions.users, interactions.items, ratings, interactions.timestamps)


def _high(interactions: Interactions, config: ShillingConfig) -> np.ndarray:
    if not interactions.explicit:
        return np.ones(len(interactions), dtype=bool)
    return interactions.ratings >= config.high_rating


def _bursts(interactions: Interactions, config: ShillingConfig) -> set[tuple[int, int]]:
    users, first_at = np.unique(interactions.users, return_inverse=True)
    first = np.full(len(users), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, first_at, interactions.timestamps)
    high = _high(interactions, config)
    # A title's high ratings from all time: the burst must be a large share of them.
    titles, title_at = np.unique(interactions.items[high], return_inverse=True)
    fans = np.bincount(title_at, minlength=len(titles))
    fans_of = dict(zip(titles.tolist(), fans.tolist(), strict=True))
    # Early activity only: what an account did within a window of its first interaction.
    early = high & (interactions.timestamps - first[first_at] <= config.window_s)
    out: set[tuple[int, int]] = set()
    # Two grids half a window apart, so a burst straddling a window's edge is still seen whole.
    for offset in (0, config.window_s // 2):
        cohort = (first[first_at] + offset) // config.window_s
        pairs = np.unique(
            np.stack([cohort[early], interactions.items[early], interactions.users[early]], axis=1), axis=0
        )
        if not len(pairs):
            continue
        groups, counts = np.unique(pairs[:, :2], axis=0, return_counts=True)
        for (window, title), n in zip(groups.tolist(), counts.tolist(), strict=True):
            if n >= config.min_group and n >= config.min_share * fans_of[title]:
                members = pairs[(pairs[:, 0] == window) & (pairs[:, 1] == title), 2]
                out.update((int(u), int(title)) for u in members)
    return out


def _repeats(interactions: Interactions, config: ShillingConfig) -> set[tuple[int, int]]:
    order = np.lexsort((interactions.timestamps, interactions.items, interactions.users))
    users, items, ts = (a[order] for a in (interactions.users, interactions.items, interactions.timestamps))
    k = config.max_repeats  # interaction i and the one k places later: the same title within the window?
    if len(users) <= k:
        return set()
    same = (users[k:] == users[:-k]) & (items[k:] == items[:-k])
    close = ts[k:] - ts[:-k] <= config.repeat_window_s
    hit = np.flatnonzero(same & close)
    return {(int(users[i]), int(items[i])) for i in hit}


def _near_identical(interactions: Interactions, config: ShillingConfig, chunk: int = 2_000) -> set[int]:
    users, user_at = np.unique(interactions.users, return_inverse=True)
    items, item_at = np.unique(interactions.items, return_inverse=True)
    matrix = sparse.csr_matrix(
        (np.ones(len(user_at), np.float32), (user_at, item_at)), shape=(len(users), len(items))
    )
    matrix.data[:] = 1.0  # repeats of one title count once
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    out: set[int] = set()
    for start in range(0, len(users), chunk):
        block = (matrix[start : start + chunk] @ matrix.T).tocoo()
        rows = block.row + start
        keep = (rows != block.col) & (sizes[rows] >= config.identical_min_items)
        keep &= sizes[block.col] >= config.identical_min_items
        union = sizes[rows[keep]] + sizes[block.col[keep]] - block.data[keep]
        similar = block.data[keep] / union >= config.identical_jaccard
        peers = np.bincount(rows[keep][similar], minlength=len(users))
        out.update(int(users[i]) for i in np.flatnonzero(peers >= config.identical_peers))
    return out
