"""A learned fusion of the sources' lists into the pool the ranker scores.

One reciprocal-rank cut let weak sources push strong ones out, and reserved heads (`merge`'s quotas)
still retrieved less than ALS alone. This scores every proposed title with a logistic model of where
each source ranked it, fitted at build on held-out titles of inner users, so the sources' weights
(and how they change for a new profile's few titles) are learned rather than set by hand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.candidates import Candidate
from retrieval.merge import RRF_K, CandidateSet

COLUMNS = 3  # per source: proposed at all, its reciprocal rank, log(1 + rank)


@dataclass(frozen=True, eq=False)
class PoolFusion:
    """Logistic weights over each trained source's ranks, a second set added for short profiles.

    `depths[j]` is how many titles `sources[j]` is asked for; `short_below` the profile length
    under which the short block applies (the ranker's short-profile model uses the same cut).
    """

    sources: tuple[str, ...]
    depths: tuple[int, ...]
    short_below: int
    weights: np.ndarray  # (2 * COLUMNS * len(sources) + 2,): base block, short block, bias, short bias

    @classmethod
    def width(cls, n_sources: int) -> int:
        return 2 * COLUMNS * n_sources + 2

    def depth_of(self, source: str) -> int | None:
        """How many titles `source` is asked for (None: a source the fusion does not weigh)."""
        return self.depths[self.sources.index(source)] if source in self.sources else None

    def features(
        self, lists: Sequence[Sequence[Candidate]], profile_length: int
    ) -> tuple[np.ndarray, np.ndarray, list[list[Candidate]]]:
        """The trained sources' titles (sorted ids), their feature rows and who proposed each."""
        column = {name: j for j, name in enumerate(self.sources)}
        flat = [c for candidates in lists for c in candidates if c.source in column]
        titles = np.fromiter((c.title_id for c in flat), np.int64, len(flat))
        where = np.fromiter((column[c.source] for c in flat), np.int64, len(flat))
        ranks = np.fromiter((c.rank for c in flat), np.int64, len(flat))
        ids, row = np.unique(titles, return_inverse=True)
        n = len(self.sources)
        # A source listing a title twice (once per anchor) counts its best rank.
        best = np.full((len(ids), n), np.iinfo(np.int64).max, np.int64)
        np.minimum.at(best, (row, where), ranks)
        listed = best < np.iinfo(np.int64).max
        rank = np.where(listed, best, np.array(self.depths))  # absent: as if just past the list's end
        X = np.zeros((len(ids), self.width(n)), np.float64)
        X[:, 0 : COLUMNS * n : COLUMNS] = listed
        X[:, 1 : COLUMNS * n : COLUMNS] = np.where(listed, RRF_K / (RRF_K + rank + 1.0), 0.0)
        X[:, 2 : COLUMNS * n : COLUMNS] = np.log1p(rank)
        X[:, -2] = 1.0
        if profile_length < self.short_below:
            X[:, COLUMNS * n : 2 * COLUMNS * n] = X[:, : COLUMNS * n]
            X[:, -1] = 1.0
        provenance: list[list[Candidate]] = [[] for _ in ids]
        for i, c in zip(row.tolist(), flat, strict=True):
            provenance[i].append(c)
        return ids, X, provenance

    def fuse(
        self, lists: Sequence[Sequence[Candidate]], profile_length: int, size: int, others: int
    ) -> CandidateSet:
        """The `size` best titles of the trained sources, then, as listed, up to `others` titles only
        other sources proposed (the profile's own titles: continue watching, rewatches), which the
        fusion never learned to weigh and the rows that show them need."""
        ids, X, provenance = self.features(lists, profile_length)
        scores = X @ self.weights
        order = np.lexsort((ids, -scores))[:size]
        kept = {int(ids[i]): provenance[i] for i in order}
        extra: dict[int, list[Candidate]] = {}
        for candidates in lists:
            for c in candidates:
                if c.source in self.sources:
                    continue
                if c.title_id in kept:
                    kept[c.title_id].append(c)
                elif c.title_id in extra or len(extra) < others:
                    extra.setdefault(c.title_id, []).append(c)
        lowest = float(scores[order].min()) if len(order) else 0.0
        return CandidateSet(
            ids=np.array([*kept, *extra], dtype=np.int64),
            scores=np.concatenate([scores[order], np.full(len(extra), lowest)]),
            provenance=tuple(tuple(p) for p in (*kept.values(), *extra.values())),
        )

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        *,
        sources: Sequence[str],
        depths: Sequence[int],
        short_below: int,
        l2: float = 1.0,
        steps: int = 25,
    ) -> PoolFusion:
        """Newton steps on the L2-penalised log loss (a few dozen weights: exact and fast)."""
        if X.shape[1] != cls.width(len(sources)) or len(depths) != len(sources):
            raise ValueError(f"{X.shape[1]} feature columns, {len(depths)} depths for {len(sources)} sources")
        w = np.zeros(X.shape[1])
        penalty = l2 * np.eye(len(w))
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-(X @ w)))
            gradient = X.T @ (p - y) + l2 * w
            hessian = (X * (p * (1.0 - p))[:, None]).T @ X + penalty
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(sources=tuple(sources), depths=tuple(depths), short_below=short_below, weights=w)

    def save(self, path: Path) -> None:
        meta = {
            "sources": list(self.sources),
            "depths": list(self.depths),
            "short_below": self.short_below,
            "weights": self.weights.tolist(),
        }
        path.write_text(json.dumps(meta, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> PoolFusion:
        meta = json.loads(path.read_text())
        weights = np.array(meta["weights"], np.float64)
        if len(weights) != cls.width(len(meta["sources"])) or len(meta["depths"]) != len(meta["sources"]):
            raise ValueError(f"{path}: {len(weights)} weights for {len(meta['sources'])} sources")
        return cls(
            sources=tuple(meta["sources"]),
            depths=tuple(int(d) for d in meta["depths"]),
            short_below=int(meta["short_below"]),
            weights=weights,
        )
