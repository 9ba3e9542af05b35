"""The final multi-objective score: relevance, minus a popularity penalty, plus business boosts."""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator


class BlendWeights(BaseModel):
    """How much each objective counts; terms are on a per-request z-scale, so weights compare directly."""

    model_config = ConfigDict(frozen=True)

    relevance: float = 1.0  # the ranker's score, standardized per request
    # Penalty on standardized log-popularity, to keep the long tail alive. 0 by default: on validation
    # folds (ml-latest-small and ml-100k user-temporal) any weight cost the ranker's NDCG@10, up to 5%.
    novelty: float = 0.0
    # A new profile's few picks say little, and there popularity is the best evidence: its weight starts
    # at `new_profile_novelty` (negative: a boost for popular titles) and moves linearly to `novelty`
    # at `novelty_full_history` titles (0: `novelty` for every profile). -0.3 helped 3-title profiles on
    # validation (ml-100k 0.0536 vs 0.0481 at 0) but buries a title just added to the catalog (no
    # interactions) for a new profile of its genre, so the default stops at no penalty.
    new_profile_novelty: float = 0.0
    novelty_full_history: int = 50
    original_boost: float = 0.05  # lift for Marquee originals
    expiring_boost: float = 0.03  # lift for titles whose licence ends soon ("watch before it leaves")
    diversity: float = 0.1  # 1 − λ for MMR (stage 2's list and each homepage row): what similarity costs

    @model_validator(mode="after")
    def _check(self) -> BlendWeights:
        for name in BlendWeights.model_fields:
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"BlendWeights.{name} must be a finite number; got {value}")
            if value < 0 and name != "new_profile_novelty":
                raise ValueError(f"BlendWeights.{name} must be >= 0 (0 turns its term off); got {value}")
        if not 0.0 <= self.diversity <= 1.0:
            raise ValueError(
                f"BlendWeights.diversity must be in [0, 1] (0 = pure relevance); got {self.diversity}"
            )
        return self

    def novelty_at(self, history: int) -> float:
        """The novelty weight for a profile of `history` titles."""
        if self.novelty_full_history <= 0:
            return self.novelty
        share = min(1.0, history / self.novelty_full_history)
        return self.new_profile_novelty + (self.novelty - self.new_profile_novelty) * share

    @property
    def trade_off(self) -> float:
        """The λ that `mmr` takes: 1 − diversity."""
        return 1.0 - self.diversity


def blend(
    *,
    relevance: np.ndarray,
    popularity: np.ndarray,
    original: np.ndarray,
    expiring_soon: np.ndarray,
    weights: BlendWeights,
    history: int | None = None,
) -> np.ndarray:
    """One blended score per candidate (higher is better), aligned with the inputs.

    score = relevance·z(relevance)                 -- what the ranker believes the profile wants
          − novelty·z(log1p(popularity))           -- popular titles need less help to be found
                                                      (novelty_at(history): a boost for new profiles)
          + original_boost·original                -- the service's own titles
          + expiring_boost·expiring_soon           -- titles about to leave the catalog
    Both z-scores are taken over this request's candidates, so the weights mean the same for every request.
    `history`, the profile's length, scales novelty down for short profiles (`BlendWeights.novelty_at`);
    None applies it in full.
    """
    n = len(relevance)
    for name, values in (
        ("popularity", popularity),
        ("original", original),
        ("expiring_soon", expiring_soon),
    ):
        if len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries but relevance has {n}; they must align")
    if n and np.min(popularity) < 0:
        raise ValueError(f"popularity holds interaction counts, so it must be >= 0; got {np.min(popularity)}")
    score = weights.relevance * _zscore(np.asarray(relevance, dtype=np.float64))
    novelty = weights.novelty if history is None else weights.novelty_at(history)
    score -= novelty * _zscore(np.log1p(np.asarray(popularity, dtype=np.float64)))
    score += weights.original_boost * np.asarray(original, dtype=np.float64)
    score += weights.expiring_boost * np.asarray(expiring_soon, dtype=np.float64)
    return score


def _zscore(values: np.ndarray) -> np.ndarray:
    """(x − mean) / std; all zeros when the values do not vary (or there are none), never NaN."""
    # Constant input is tested exactly: its float std can come out as 1e-17, not 0, and blow up the ratio.
    if len(values) == 0 or values.max() == values.min():
        return np.zeros_like(values)
    z: np.ndarray = (values - values.mean()) / values.std()  # numpy types reductions as Any
    return z
