"""Stage 2 for one request: features, the ranker's relevance, the multi-objective blend, diversification."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from catalog import Business, Context
from ranker.blend import BlendWeights, blend
from ranker.diversify import mmr
from ranker.features import FeatureBuilder, TitleStats
from ranker.ltr import Ranker
from ranker.rows import Scored
from retrieval import CandidateSet, lookup

LEAVING_SOON_DAYS = 30.0


@dataclass
class Stage2:
    features: FeatureBuilder
    ranker: Ranker
    stats: TitleStats
    business: Mapping[int, Business]
    content_ids: np.ndarray  # sorted
    content: np.ndarray  # unit rows aligned to content_ids
    weights: BlendWeights = BlendWeights()

    def relevance(self, *, context: Context, candidates: CandidateSet) -> np.ndarray:
        """The ranker's score per candidate (stage 2 without blend or diversity)."""
        if not len(candidates):
            return np.empty(0)
        return self.ranker.score(self.features.build(context=context, candidates=candidates))

    def score(
        self,
        *,
        context: Context,
        candidates: CandidateSet,
        weights: BlendWeights | None = None,
        relevance: np.ndarray | None = None,
    ) -> Scored:
        """Candidates with their blended final score, best first. `relevance`, when given, is this
        request's `relevance(...)` already computed (an evaluation blends one ranking several ways)."""
        weights = weights or self.weights
        ids = np.asarray(candidates.ids, np.int64)
        if relevance is None:
            relevance = self.relevance(context=context, candidates=candidates)
        popularity = self._lookup(self.stats.ids, self.stats.popularity["all"], ids)
        horizon = context.now + LEAVING_SOON_DAYS * 86_400.0
        business = [self.business.get(t) for t in ids.tolist()]
        final = (
            blend(
                relevance=relevance,
                popularity=popularity,
                original=np.array([b is not None and b.original for b in business], bool),
                expiring_soon=np.array(
                    [b is not None and b.licence_expires <= horizon for b in business], bool
                ),
                weights=weights,
                history=len(context.history),
            )
            if len(ids)
            else np.empty(0)
        )
        order = np.argsort(-final, kind="stable")
        return Scored(
            ids=ids[order],
            scores=final[order],
            provenance=tuple(candidates.provenance[i] for i in order.tolist()),
            vectors=self.vectors(ids[order]),
            popularity=popularity[order],
        )

    def top(
        self,
        *,
        context: Context,
        candidates: CandidateSet,
        k: int,
        weights: BlendWeights | None = None,
        relevance: np.ndarray | None = None,
    ) -> np.ndarray:
        """The served list: blended scores, then MMR with the blend's diversity weight."""
        weights = weights or self.weights
        scored = self.score(context=context, candidates=candidates, weights=weights, relevance=relevance)
        picks = mmr(
            ids=scored.ids, relevance=scored.scores, vectors=scored.vectors, k=k, trade_off=weights.trade_off
        )
        return scored.ids[picks]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        pos, found = lookup(self.content_ids, ids)
        # The gather is a fresh array already: no copy to make.
        out: np.ndarray = self.content[pos].astype(np.float32, copy=False)
        out[~found] = 0.0
        return out

    @staticmethod
    def _lookup(sorted_ids: np.ndarray, values: np.ndarray, ids: np.ndarray) -> np.ndarray:
        if not len(sorted_ids):
            return np.zeros(len(ids))
        pos, found = lookup(sorted_ids, ids)
        return np.where(found, values[pos], 0.0).astype(np.float64)
