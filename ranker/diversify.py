"""Row diversification: MMR over title embeddings with genre caps, epsilon exploration, a diversity metric."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def mmr(
    *,
    ids: np.ndarray,
    relevance: np.ndarray,
    vectors: np.ndarray,
    k: int,
    trade_off: float,
    genres: Sequence[tuple[str, ...]] | None = None,
    genre_cap: int | None = None,
) -> npt.NDArray[np.int64]:
    """Maximal marginal relevance (Carbonell & Goldstein 1998): the indices of up to `k` picks, in order.

    Each step takes argmax of λ·relevance − (1 − λ)·(max cosine similarity to the picks so far), with
    λ = `trade_off` (1 = pure relevance order). Relevance is min-max scaled per call so λ means the same
    whatever the ranker's score range. `vectors` are unit rows aligned with `ids`. With `genre_cap`, at
    most that many picks share a primary (first) genre while other candidates remain; when only capped
    genres are left the cap is relaxed rather than returning a short row.
    """
    n = len(ids)
    _check_aligned(n, relevance=relevance, vectors=vectors)
    if not 0.0 <= trade_off <= 1.0:
        raise ValueError(f"trade_off must be in [0, 1] (1 = pure relevance); got {trade_off}")
    if k < 0:
        raise ValueError(f"k must be >= 0; got {k}")
    primary: np.ndarray | None = None
    if genre_cap is not None:
        if genre_cap < 1:
            raise ValueError(f"genre_cap must be >= 1 or None (no cap); got {genre_cap}")
        if genres is None or len(genres) != n:
            got = "None" if genres is None else str(len(genres))
            raise ValueError(f"genre_cap needs one genres tuple per candidate ({n}); got {got}")
        primary = _primary_genre_codes(genres)

    gain = trade_off * _min_max(np.asarray(relevance, dtype=np.float64))
    penalty = 1.0 - trade_off
    # `eligible` is available and not genre-capped, kept up to date with its count rather than rebuilt
    # and tested each step: a call makes up to k steps over a small pool, so per-step numpy calls dominate.
    available = np.ones(n, dtype=bool)
    eligible = np.ones(n, dtype=bool)
    n_eligible = n
    genre_counts: dict[int, int] = {}
    # Running max similarity to the picks: one mat-vec per pick instead of an n×n matrix up front.
    max_sim: np.ndarray | None = None
    picks: list[int] = []
    for _ in range(min(k, n)):
        score = gain if max_sim is None else gain - penalty * max_sim
        # No eligible candidate left means only capped genres remain: relax the cap.
        best = int(np.where(eligible if n_eligible else available, score, -np.inf).argmax())
        picks.append(best)
        available[best] = False
        if eligible[best]:
            eligible[best] = False
            n_eligible -= 1
        sim = vectors @ vectors[best]
        max_sim = sim if max_sim is None else np.maximum(max_sim, sim, out=max_sim)
        if primary is not None and (code := int(primary[best])) >= 0:
            genre_counts[code] = count = genre_counts.get(code, 0) + 1
            if count == genre_cap:
                capped = eligible & (primary == code)
                n_eligible -= int(np.count_nonzero(capped))
                eligible[capped] = False
    return np.asarray(picks, dtype=np.int64)


def explore(
    *,
    picked: np.ndarray,
    pool: np.ndarray,
    uncertainty: np.ndarray,
    epsilon: float,
    rng: np.random.Generator,
    slot: int,
) -> np.ndarray:
    """With probability `epsilon`, put the most uncertain unpicked `pool` item at position `slot`.

    `picked` and `pool` hold the same kind of index; `uncertainty` is aligned with `pool`. The row keeps
    its length: items from `slot` on shift down one and the last drops, so exploring never costs the
    row's best picks. The explored item is marked by position: it is there exactly when
    `result[slot] != picked[slot]` (the caller's cue to explain "something different"). `slot` past the
    end of a short row means its last position. One draw from `rng` per call, explored or not, so runs
    stay reproducible.
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1]; got {epsilon}")
    if slot < 0:
        raise ValueError(f"slot must be >= 0; got {slot}")
    if len(uncertainty) != len(pool):
        raise ValueError(f"uncertainty has {len(uncertainty)} entries but pool has {len(pool)}")
    picked = np.asarray(picked)
    if rng.random() >= epsilon or len(picked) == 0:
        return picked.copy()
    fresh = ~np.isin(pool, picked)
    if not fresh.any():
        return picked.copy()
    choice = pool[int(np.argmax(np.where(fresh, uncertainty, -np.inf)))]
    at = min(slot, len(picked) - 1)
    return np.concatenate([picked[:at], [choice], picked[at:-1]]).astype(picked.dtype)


def intra_list_diversity(vectors: np.ndarray) -> float:
    """Mean pairwise cosine distance of a row's titles (0 = all alike); 0.0 for fewer than two."""
    n = len(vectors)
    if n < 2:
        return 0.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0.0, 1.0, norms)
    sims = unit @ unit.T
    upper = sims[np.triu_indices(n, k=1)]
    return float(np.mean(1.0 - upper))


def _min_max(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; all-equal values become all ones (relevance then cannot break ties)."""
    if len(values) == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low <= 0.0:
        return np.ones_like(values)
    return (values - low) / (high - low)


def _primary_genre_codes(genres: Sequence[tuple[str, ...]]) -> np.ndarray:
    """An int code per candidate for its first genre; -1 for titles without genres (never capped)."""
    codes: dict[str, int] = {}
    return np.array([codes.setdefault(g[0], len(codes)) if g else -1 for g in genres], dtype=np.int64)


def _check_aligned(n: int, *, relevance: np.ndarray, vectors: np.ndarray) -> None:
    if len(relevance) != n or len(vectors) != n:
        raise ValueError(
            f"ids, relevance and vectors must align row for row; got {n}, {len(relevance)}, {len(vectors)}"
        )
