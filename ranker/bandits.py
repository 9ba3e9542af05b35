"""Thompson-sampling bandits for artwork and row order, with their counts persisted.

Both policies keep Beta/Bernoulli posteriors: a Beta(1, 1) prior plus success and failure counts.
Counts live in a sparse dict for sampling and are mirrored to a count store (SQLite, or PostgreSQL for
replicas: ranker/beta_counts.py) as increments, so processes that share one never lose each other's
updates; `refresh()`, and every `refresh_s` seconds a read, folds in what the others wrote.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, Self

import numpy as np

from catalog import StoreUnavailableError
from ranker.beta_counts import BetaCounts, Increment, SQLiteBetaCounts

SEGMENTS: tuple[str, ...] = ("action", "comedy", "dark", "drama", "family", "scifi")
NEW_SEGMENT = "new"  # a profile with no history yet
log = logging.getLogger("marquee.ranker")

_SEGMENT_OF: dict[str, str] = {
    "action": "action", "adventure": "action", "war": "action", "western": "action",
    "comedy": "comedy",
    "horror": "dark", "thriller": "dark", "crime": "dark", "mystery": "dark", "film-noir": "dark",
    "drama": "drama", "romance": "drama", "documentary": "drama", "history": "drama",
    "animation": "family", "children": "family", "children's": "family", "family": "family",
    "musical": "family", "music": "family",
    "sci-fi": "scifi", "science fiction": "scifi", "fantasy": "scifi",
}  # fmt: skip
# Each segment's share of genre tags over all ml-latest-small ratings. Dividing by it keeps Drama and
# Action, which most films carry, from claiming nearly every profile.
_BACKGROUND: dict[str, float] = {
    "action": 0.23, "drama": 0.23, "dark": 0.22, "comedy": 0.14, "scifi": 0.11, "family": 0.08,
}  # fmt: skip

# Thin data leans on the segment. A title's prior holds its segment's counts for the variant, scaled
# down to at most POOL_STRENGTH pseudo-impressions (empirical Bayes, roughly), so a title with few
# impressions behaves like its segment and its own counts take over after a few hundred. At take rates
# of a few percent, 100 impressions hold only a handful of takes: the pool weighs no more than that.
# (The pool also holds the title's own counts; over a segment of many titles that double count is slight.)
POOL_STRENGTH = 100


def taste_segment(genre_counts: Mapping[str, float]) -> str:
    """The profile's dominant genre group, relative to how common each group is; "new" without history."""
    weights: dict[str, float] = {}
    for genre, count in genre_counts.items():
        segment = _SEGMENT_OF.get(genre.lower())
        if segment and count > 0:
            weights[segment] = weights.get(segment, 0.0) + count / _BACKGROUND[segment]
    if not weights:
        return NEW_SEGMENT
    return max(SEGMENTS, key=lambda s: weights.get(s, 0.0))  # ties go to the first in SEGMENTS


class BetaStore:
    """Success and failure counts per (scope, arm) for one policy, shared by the bandits below.

    Sampling reads an in-memory copy; every update goes to `counts` (a file or a database other processes
    write too) and to the copy. With `refresh_s`, the first read after that many seconds reloads the copy
    from `counts`, so a bandit learns from every replica's events within about `refresh_s`.
    """

    def __init__(self, counts: BetaCounts, policy: str, *, refresh_s: float | None = None) -> None:
        self._backend = counts
        self._policy = policy
        self._refresh_s = refresh_s
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}
        self._due = math.inf
        self.refresh()

    @classmethod
    def open(cls, path: Path | str, policy: str, *, refresh_s: float | None = None) -> BetaStore:
        """Open (or create) a store file; ":memory:" keeps it in this process only."""
        return cls(SQLiteBetaCounts(path), policy, refresh_s=refresh_s)

    def counts(self, scope: str, arm: str) -> tuple[int, int]:
        if time.monotonic() >= self._due:
            self._refresh_quietly()
        return self._counts.get((scope, arm), (0, 0))

    def add(self, increments: Sequence[Increment]) -> None:
        """Add (scope, arm, successes, failures) counts in one transaction: a whole batch of events costs
        one round trip to a shared database, not one per event."""
        with self._lock:
            # Stored first: if that fails, the copy stays as it was.
            self._backend.add(self._policy, increments)
            for scope, arm, ds, df in increments:
                s, f = self._counts.get((scope, arm), (0, 0))
                self._counts[(scope, arm)] = (s + ds, f + df)

    def refresh(self) -> None:
        """Reload every count, including what other processes added."""
        with self._lock:
            self._counts = self._backend.load(self._policy)
            if self._refresh_s is not None:
                self._due = time.monotonic() + self._refresh_s

    def close(self) -> None:
        with self._lock:
            self._backend.close()

    def _refresh_quietly(self) -> None:
        """A periodic refresh: the first reader past due makes the one query while the others sample the
        copy they have. A failure (the database away) keeps the copy and tries again a period later,
        rather than failing the page."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._due = time.monotonic() + (self._refresh_s or 0.0)
            self._counts = self._backend.load(self._policy)
        except (StoreUnavailableError, sqlite3.Error) as error:
            log.warning("bandit counts (%s) not refreshed, sampling the last ones: %s", self._policy, error)
        finally:
            self._lock.release()


class _Persisted:
    """Opening, refreshing and closing, for a policy whose counts sit in a `BetaStore`."""

    POLICY = ""

    def __init__(self, store: BetaStore) -> None:
        self._store = store

    @classmethod
    def open(cls, path: Path | str = ":memory:", *, refresh_s: float | None = None) -> Self:
        return cls(BetaStore.open(path, cls.POLICY, refresh_s=refresh_s))

    @classmethod
    def over(cls, counts: BetaCounts, *, refresh_s: float | None = None) -> Self:
        """The policy over a shared count store (PostgreSQL for replicas: ranker/beta_counts.py)."""
        return cls(BetaStore(counts, cls.POLICY, refresh_s=refresh_s))

    def refresh(self) -> None:
        self._store.refresh()

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ArtworkPolicy(Protocol):
    """Picks the artwork variant shown on one impression and learns from whether it was taken."""

    def choose(
        self, *, title_id: int, segment: str, variants: Sequence[str], rng: np.random.Generator
    ) -> str: ...

    def update(self, *, title_id: int, segment: str, variant: str, reward: bool) -> None: ...


class ArtworkBandit(_Persisted):
    """Thompson sampling over artwork variants per (title, taste segment), pooled by segment.

    Pass `cluster` to share one posterior among similar titles (new ones, or a long tail too thin
    to learn per title); it replaces the title id as the key.
    """

    POLICY = "artwork"

    def choose(
        self,
        *,
        title_id: int,
        segment: str,
        variants: Sequence[str],
        rng: np.random.Generator,
        cluster: int | None = None,
    ) -> str:
        """Sample each variant's posterior and show the best draw."""
        if not variants:
            raise ValueError(f"no artwork variants to choose from for title {title_id}; pass at least one")
        params = np.array([self.posterior(title_id, segment, v, cluster=cluster) for v in variants])
        return variants[int(np.argmax(rng.beta(params[:, 0], params[:, 1])))]

    def choose_many(
        self,
        *,
        title_ids: Sequence[int],
        variants: Sequence[Sequence[str]],
        segment: str,
        rng: np.random.Generator,
    ) -> list[str]:
        """`choose` for a whole page at once: one posterior draw per (title, variant), in one call."""
        if len(title_ids) != len(variants):
            raise ValueError(f"{len(title_ids)} titles but {len(variants)} variant lists; pass one per title")
        if not title_ids:
            return []
        if not all(variants):
            raise ValueError("every title needs at least one artwork variant to choose from")
        width = max(len(v) for v in variants)
        # The segment's pooled prior is the same for every title of the page: looked up once per variant.
        priors = {
            v: self._prior(segment, v) for v in dict.fromkeys(v for options in variants for v in options)
        }
        # Filled as flat lists and converted once: element writes into numpy arrays cost far more.
        alpha = [1.0] * (len(title_ids) * width)
        beta = [1.0] * (len(title_ids) * width)
        for row, (title_id, options) in enumerate(zip(title_ids, variants, strict=True)):
            scope = _title_scope(title_id, segment, None)
            for at, variant in enumerate(options, start=row * width):
                s, f = self._store.counts(scope, variant)
                prior_s, prior_f = priors[variant]
                alpha[at], beta[at] = 1.0 + s + prior_s, 1.0 + f + prior_f
        shape = (len(title_ids), width)
        draws = rng.beta(np.reshape(alpha, shape), np.reshape(beta, shape))
        # A title with fewer variants: its empty slots never win.
        draws[np.arange(width) >= np.array([len(v) for v in variants])[:, None]] = -np.inf
        return [options[col] for options, col in zip(variants, draws.argmax(axis=1).tolist(), strict=True)]

    def update(
        self, *, title_id: int, segment: str, variant: str, reward: bool, cluster: int | None = None
    ) -> None:
        """Record one impression: a click or play is a success, an impression without one a failure."""
        self._store.add(_artwork_counts(title_id, segment, variant, reward, cluster))

    def update_many(self, trials: Iterable[tuple[int, str, str, bool]]) -> None:
        """`update` for (title id, segment, variant, reward) trials, stored in one transaction."""
        self._store.add([c for trial in trials for c in _artwork_counts(*trial, None)])

    def posterior(
        self, title_id: int, segment: str, variant: str, *, cluster: int | None = None
    ) -> tuple[float, float]:
        """The Beta(alpha, beta) that `choose` samples: prior, scaled segment pool, then own counts."""
        s, f = self._store.counts(_title_scope(title_id, segment, cluster), variant)
        prior_s, prior_f = self._prior(segment, variant)
        return 1.0 + s + prior_s, 1.0 + f + prior_f

    def _prior(self, segment: str, variant: str) -> tuple[float, float]:
        """The segment's pooled counts for a variant, scaled to at most POOL_STRENGTH pseudo-counts."""
        pool_s, pool_f = self._store.counts(_pool_scope(segment), variant)
        scale = min(1.0, POOL_STRENGTH / (pool_s + pool_f)) if pool_s + pool_f else 0.0
        return scale * pool_s, scale * pool_f


class RowOrderBandit(_Persisted):
    """Orders a profile's rows by Thompson sampling over row kinds, per taste segment.

    Thompson rather than UCB1: it randomizes the order between requests, so lower rows still get seen
    and engagement with them gets counted. Callers should report only rows the user actually scrolled to.
    """

    POLICY = "rows"

    def order(
        self, segment: str, kinds: Sequence[str], rng: np.random.Generator, pinned: Sequence[str] = ()
    ) -> list[str]:
        """Pinned kinds first, in the given order; the rest by descending posterior draw."""
        if len(set(kinds)) < len(kinds):
            repeated = sorted({k for k in kinds if kinds.count(k) > 1})
            raise ValueError(f"row kinds must be unique; repeated: {', '.join(repeated)}")
        top = [k for k in pinned if k in kinds]
        rest = [k for k in kinds if k not in pinned]
        if not rest:
            return top
        params = np.array([self.posterior(segment, k) for k in rest])
        draws = rng.beta(params[:, 0], params[:, 1])
        return top + [rest[i] for i in np.argsort(-draws, kind="stable")]

    def update(self, segment: str, row_kind: str, engaged: bool) -> None:
        """Record one row view: engaged (a play or click in the row) or not."""
        self.update_many([(segment, row_kind, engaged)])

    def update_many(self, views: Iterable[tuple[str, str, bool]]) -> None:
        """`update` for (segment, row kind, engaged) views, stored in one transaction."""
        self._store.add([(segment, kind, int(engaged), int(not engaged)) for segment, kind, engaged in views])

    def posterior(self, segment: str, row_kind: str) -> tuple[float, float]:
        s, f = self._store.counts(segment, row_kind)
        return 1.0 + s, 1.0 + f


def _artwork_counts(
    title_id: int, segment: str, variant: str, reward: bool, cluster: int | None
) -> list[Increment]:
    """One impression's counts: in its title's (or cluster's) cell and in its segment's pool."""
    ds, df = int(reward), int(not reward)
    return [
        (_title_scope(title_id, segment, cluster), variant, ds, df),
        (_pool_scope(segment), variant, ds, df),
    ]


def _title_scope(title_id: int, segment: str, cluster: int | None) -> str:
    return f"title:{title_id}/{segment}" if cluster is None else f"cluster:{cluster}/{segment}"


def _pool_scope(segment: str) -> str:
    return f"*/{segment}"
