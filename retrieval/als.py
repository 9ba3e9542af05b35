"""Implicit-feedback ALS (the `implicit` library) with fold-in for profiles it never saw."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from implicit.cpu import _als
from implicit.cpu.als import AlternatingLeastSquares
from pydantic import BaseModel, ConfigDict, Field
from threadpoolctl import threadpool_limits

from catalog import Interactions
from catalog.matrix import UserItemMatrix, Weighting, interaction_weights
from retrieval.recent import RecentResults

RECENT_VECTORS = 32  # profiles' folded-in vectors kept: the requests in flight, and then some


class ALSConfig(BaseModel):
    """What `marquee build` fits (MARQUEE_ALS__*). The defaults are what validation folds of
    ml-latest-small chose (README, "Tuning"); `marquee eval` re-tunes per data set and reports its choice."""

    model_config = ConfigDict(frozen=True)

    factors: int = Field(64, ge=2, le=1024)
    regularization: float = Field(10.0, ge=0)
    alpha: float = Field(0.25, gt=0)  # confidence = 1 + alpha * weight
    iterations: int = Field(15, ge=1, le=200)
    weighting: Weighting = "rating"
    # Halve an interaction's weight every this many days before the latest one (None: no decay), so
    # the factors lean toward what people watch now. Needs timestamps; untimed data ignores it.
    half_life_days: float | None = Field(365.0, gt=0)
    seed: int = 42  # the engine's MARQUEE_SEED unless set here (engine/config.py)


class ALSModel:
    """Item factors over a fixed set of title ids; user vectors are computed on demand."""

    def __init__(self, model: AlternatingLeastSquares, item_ids: np.ndarray, config: ALSConfig) -> None:
        self._model = model
        self.item_ids = item_ids
        self.config = config
        self._yty_cache: np.ndarray | None = None
        # A page folds one profile in twice (the ALS source, then the ranker's ALS features).
        self._recent = RecentResults(RECENT_VECTORS)

    @property
    def _yty(self) -> np.ndarray:
        """Item factors' Gram matrix, for fold-in; computed once (a race computes the same value twice)."""
        if self._yty_cache is None:
            self._yty_cache = np.asarray(self._model.YtY)
        return self._yty_cache

    @classmethod
    def fit(cls, interactions: Interactions, config: ALSConfig | None = None) -> ALSModel:
        config = config or ALSConfig()
        matrix = UserItemMatrix.build(interactions, config.weighting, decay=_decay(config))
        # implicit runs its own threads; OpenBLAS threads on top make it ~2.5x slower (ENVIRONMENT.md).
        with threadpool_limits(1, "blas"):
            model = _new_model(config)
            model.fit(matrix.csr, show_progress=False)
        return cls(model, matrix.item_ids, config)

    @property
    def item_factors(self) -> np.ndarray:
        return np.asarray(self._model.item_factors)

    def item_vectors(self, title_ids: np.ndarray) -> dict[int, np.ndarray]:
        cols = np.searchsorted(self.item_ids, title_ids)
        factors = self.item_factors
        return {
            int(t): factors[c]
            for t, c in zip(title_ids, cols, strict=True)
            if c < len(self.item_ids) and self.item_ids[c] == t
        }

    def user_vector(
        self, items: np.ndarray, ratings: np.ndarray, timestamps: np.ndarray | None = None, now: float = 0.0
    ) -> np.ndarray | None:
        """Fold a history into a user vector by one least-squares step against fixed item factors.

        None when no history item is known to the model (the caller falls back to other sources).
        The result is read-only: the latest few are kept for the same profile's next ask.
        """
        key = _profile_key(items, ratings, timestamps, now)
        kept = self._recent.get(key)
        if kept is not None:
            return kept
        cols = np.searchsorted(self.item_ids, items)
        cols = np.minimum(cols, len(self.item_ids) - 1)
        known = self.item_ids[cols] == items
        if not known.any():
            return None
        weights = interaction_weights(np.asarray(ratings, np.float32)[known], self.config.weighting)
        if timestamps is not None and self.config.half_life_days:
            weights = weights * decay_factors(np.asarray(timestamps)[known], now, self.config.half_life_days)
        # The one CSR row by hand (columns sorted, repeats summed, as scipy would build it): scipy's
        # constructor costs more than the solve.
        cols = cols[known]
        order = np.argsort(cols, kind="stable")
        cols, weights = cols[order], weights[order]
        first = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
        vector = self._fold_in(cols[first].astype(np.int32), np.add.reduceat(weights, first))
        return self._recent.put(key, vector)

    def _fold_in(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """implicit's `recalculate_user` for one row (sorted int32 columns and their weights), on the
        calling thread only.

        One user's solve is tiny: implicit's OpenMP threads cost ~15 ms here, a single thread ~0.1 ms.
        Asking for one thread in the call, rather than limiting OpenMP process-wide around it, keeps
        concurrent requests from flipping each other's (and XGBoost's) thread limits.
        """
        model = self._model
        data = values * model.alpha if model.alpha != 1.0 else values
        factors = np.zeros((1, model.factors), dtype=model.dtype)
        _als._least_squares(
            self._yty,
            np.array([0, len(columns)], np.int32),
            columns,
            data.astype(np.float32),
            factors,
            model.item_factors,
            model.regularization,
            num_threads=1,
        )
        return np.asarray(factors[0], np.float32)

    def matrix(self, interactions: Interactions) -> UserItemMatrix:
        """Interactions weighted as this model was trained, over its columns (for batch fold-in)."""
        return UserItemMatrix.build(interactions, self.config.weighting, self.item_ids, _decay(self.config))

    def user_vectors(self, matrix: UserItemMatrix) -> np.ndarray:
        """Fold-in for every row of a matrix whose columns are this model's items (batch eval path)."""
        return np.asarray(
            self._model.recalculate_user(np.arange(matrix.csr.shape[0]), matrix.csr), np.float32
        )

    def save(self, path: Path) -> None:
        # .npz without pickle: item ids, factors and the parameters needed to fold users in.
        np.savez(
            path,
            item_ids=self.item_ids,
            item_factors=self.item_factors,
            config=np.array(list(self.config.model_dump().items()), dtype=str),
        )

    @classmethod
    def load(cls, path: Path) -> ALSModel:
        with np.load(path, allow_pickle=False) as data:
            raw = dict(data["config"].tolist())
            # Every value was saved as text; pydantic reads the numbers back.
            config = ALSConfig.model_validate({k: None if v == "None" else v for k, v in raw.items()})
            with threadpool_limits(1, "blas"):
                model = _new_model(config)
            model.item_factors = data["item_factors"].astype(np.float32)
            return cls(model, data["item_ids"].astype(np.int64), config)


def decay_factors(timestamps: np.ndarray, now: float, half_life_days: float) -> np.ndarray:
    """0.5 ** (age / half-life) per interaction; unknown (-1) timestamps keep full weight."""
    age_days = np.maximum(now - timestamps, 0) / 86_400.0
    return np.where(timestamps < 0, 1.0, 0.5 ** (age_days / half_life_days)).astype(np.float32)


def _decay(config: ALSConfig) -> Callable[[Interactions], np.ndarray] | None:
    if not config.half_life_days:
        return None
    half_life = config.half_life_days
    return lambda inter: decay_factors(inter.timestamps, float(inter.timestamps.max()), half_life)


def _new_model(config: ALSConfig) -> AlternatingLeastSquares:
    return AlternatingLeastSquares(
        factors=config.factors,
        regularization=config.regularization,
        alpha=config.alpha,
        iterations=config.iterations,
        random_state=config.seed,
    )


def _profile_key(items: np.ndarray, ratings: np.ndarray, timestamps: np.ndarray | None, now: float) -> bytes:
    """Every input of a fold-in as bytes; the length and whether there are timestamps lead, so arrays
    of other lengths never read as the same bytes."""
    stamps = np.empty(0) if timestamps is None else np.asarray(timestamps, np.float64)
    head = np.array([len(items), timestamps is None, now], np.float64)
    parts = (head, np.asarray(items, np.int64), np.asarray(ratings, np.float64), stamps)
    return b"".join(part.tobytes() for part in parts)
