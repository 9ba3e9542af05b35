"""Reference recommenders to measure the real pipeline against: Popular, ItemKNN, EASE.

Every baseline trains on exactly the Interactions it is given (pass positives only if that is
what you want to model), and recommends title ids, best first:

* by default each user's own training titles are excluded; an explicit `exclude` mapping
  replaces that default entirely (a user missing from it gets nothing excluded);
* a user unknown at fit time, or one for whom the model has fewer than k scored titles,
  gets (or is topped up with) the most popular training titles not excluded;
* a list is shorter than k only when the training catalogue runs out.

`tune` picks hyper-parameters on a validation split; the test split never goes near it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Protocol, Self

import numpy as np
import scipy.sparse as sp

from catalog.interactions import Interactions
from catalog.matrix import UserItemMatrix
from evals.metrics import METRICS, ItemPopularity, evaluate
from retrieval.ease import ease_weights
from retrieval.vae import VAEConfig, VAEModel

log = logging.getLogger(__name__)

BATCH_SIZE = 1024


class Baseline(Protocol):
    name: str

    def fit(self, train: Interactions) -> Self: ...

    def recommend(
        self, users: Sequence[int], k: int, exclude: Mapping[int, AbstractSet[int]] | None = None
    ) -> dict[int, np.ndarray]: ...


class _MatrixBaseline:
    """Shared fit/recommend plumbing: subclasses provide `_fit` and `_score`."""

    name = "matrix"

    def __init__(self, weighting: str = "binary", batch_size: int = BATCH_SIZE) -> None:
        self.weighting = weighting
        self.batch_size = batch_size
        self.matrix: UserItemMatrix | None = None
        self._popular: np.ndarray | None = None  # column indices, most popular first

    def fit(self, train: Interactions) -> Self:
        if len(train) == 0:
            raise ValueError(f"{self.name}: cannot fit on no interactions")
        self.matrix = UserItemMatrix.build(train, self.weighting)
        weight = np.asarray(self.matrix.csr.sum(axis=0)).ravel()
        self._popular = np.lexsort((self.matrix.item_ids, -weight))  # ties: smaller title id first
        self._fit(self.matrix)
        return self

    def _fit(self, matrix: UserItemMatrix) -> None:
        pass

    def _score(self, rows: sp.csr_matrix) -> np.ndarray | None:
        """Dense (len(rows), n_items) scores, -inf where the model has nothing to say; None: no model."""
        return None

    def _score_users(self, users: Sequence[int], rows: sp.csr_matrix) -> np.ndarray | None:
        """`_score` for these users' rows; a model that needs more than the rows (a sequence model: the
        order of the titles) overrides this one instead."""
        return self._score(rows)

    def recommend(
        self, users: Sequence[int], k: int, exclude: Mapping[int, AbstractSet[int]] | None = None
    ) -> dict[int, np.ndarray]:
        if self.matrix is None or self._popular is None:
            raise RuntimeError(f"{self.name}: call fit() before recommend()")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        matrix = self.matrix
        users = [int(u) for u in users]
        out: dict[int, np.ndarray] = {}
        for start in range(0, len(users), self.batch_size):
            chunk = users[start : start + self.batch_size]
            rows = matrix.rows(chunk)
            known = matrix.known(chunk)
            if exclude is None:
                banned = [rows.indices[rows.indptr[j] : rows.indptr[j + 1]] for j in range(len(chunk))]
            else:
                banned = [_known_columns(matrix, exclude.get(u, ())) for u in chunk]
            scores = self._score_users(chunk, rows) if known.any() else None
            tops = self._top(scores, known, banned, k) if scores is not None else None
            for j, user in enumerate(chunk):
                picked = tops[j] if tops is not None else np.empty(0, np.int64)
                if len(picked) < k:
                    picked = self._fill(picked, banned[j], k)
                out[user] = matrix.item_ids[picked]
        return out

    @staticmethod
    def _top(scores: np.ndarray, known: np.ndarray, banned: list[np.ndarray], k: int) -> list[np.ndarray]:
        scores[~known] = -np.inf
        lengths = np.fromiter((len(b) for b in banned), dtype=np.int64, count=len(banned))
        if lengths.sum():
            scores[np.repeat(np.arange(len(banned)), lengths), np.concatenate(banned)] = -np.inf
        n_items = scores.shape[1]
        kk = min(k, n_items)
        if kk < n_items:
            part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        else:
            part = np.broadcast_to(np.arange(n_items), scores.shape).copy()
        values = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        part = np.take_along_axis(part, order, axis=1)
        values = np.take_along_axis(values, order, axis=1)
        return [p[np.isfinite(v)] for p, v in zip(part, values, strict=True)]

    def _fill(self, picked: np.ndarray, banned: np.ndarray, k: int) -> np.ndarray:
        """Top `picked` up to k with popular titles that are neither banned nor already picked."""
        assert self._popular is not None
        skip = np.concatenate([banned, picked])
        head = self._popular[: k + len(skip)]
        extra = head[~np.isin(head, skip)][: k - len(picked)]
        return np.concatenate([picked, extra]).astype(np.int64)


class Popular(_MatrixBaseline):
    """Most-interacted titles: the number of training interactions per title ("binary"), or
    their summed ratings ("rating"). Ties go to the smaller title id."""

    name = "popular"


class ItemKNN(_MatrixBaseline):
    """Item-item nearest neighbours from implicit (cosine, bm25 or tfidf similarities, K each).

    Fitting is implicit's (`all_pairs_knn`); scoring is the same sum implicit's `recommend`
    does (user row · similarity), done as one sparse product per batch of users so that any
    `exclude` set and the popular top-up fit in. Titles with no similar title in the user's
    history are not scored (they can only come from the popular top-up).
    """

    KINDS = ("cosine", "bm25", "tfidf")

    def __init__(
        self,
        K: int = 100,
        kind: str = "cosine",
        weighting: str = "binary",
        K1: float = 1.2,
        B: float = 0.75,
        num_threads: int = 0,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, got {kind!r}")
        super().__init__(weighting, batch_size)
        self.K, self.kind, self.K1, self.B, self.num_threads = K, kind, K1, B, num_threads
        self.name = f"itemknn-{kind}"
        self.similarity: sp.csr_matrix | None = None

    def _fit(self, matrix: UserItemMatrix) -> None:
        # implicit's Cosine/BM25/TFIDF recommenders hand a coo matrix to ItemItemRecommender.fit,
        # which warns (ParameterWarning); weight with the same helpers and pass csr ourselves.
        from implicit.nearest_neighbours import ItemItemRecommender, bm25_weight, normalize, tfidf_weight

        item_users = matrix.csr.T
        if self.kind == "cosine":
            weighted = normalize(item_users)
        elif self.kind == "bm25":
            weighted = bm25_weight(item_users, K1=self.K1, B=self.B)
        else:
            weighted = normalize(tfidf_weight(item_users))
        self.model = ItemItemRecommender(K=self.K, num_threads=self.num_threads)
        self.model.fit(weighted.T.tocsr(), show_progress=False)
        self.similarity = self.model.similarity.tocsr()

    def _score(self, rows: sp.csr_matrix) -> np.ndarray:
        assert self.similarity is not None
        product = (rows.astype(np.float64) @ self.similarity).tocsr()
        product.eliminate_zeros()
        scores = np.full(product.shape, -np.inf)
        scores[np.repeat(np.arange(product.shape[0]), np.diff(product.indptr)), product.indices] = (
            product.data
        )
        return scores


class EASE(_MatrixBaseline):
    """EASE^R (Steck 2019): B = I - P · diag(1/diag(P)), P = (XᵀX + l2·I)⁻¹; scores = X·B.

    Only titles with at least `min_item_count` training users get a column in B (default 2):
    the Gram matrix is dense (n × n) and its inversion cubic, so dropping single-user titles
    bounds the cost on long-tailed catalogues; those titles are never scored (they can only
    come from the popular top-up). The inversion is a Cholesky one in float64 and runs with
    `num_threads` BLAS threads (None: all cores) whatever the process default is; B is kept
    as float32 for scoring.
    """

    name = "ease"

    def __init__(
        self,
        l2: float = 500.0,
        weighting: str = "binary",
        min_item_count: int = 2,
        num_threads: int | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if l2 <= 0:
            raise ValueError("l2 must be > 0")
        super().__init__(weighting, batch_size)
        self.l2, self.min_item_count, self.num_threads = l2, min_item_count, num_threads
        self.columns: np.ndarray | None = None  # matrix columns that have a row/column in B
        self.B: np.ndarray | None = None

    def _threads(self) -> int:
        return self.num_threads or os.cpu_count() or 1

    def _fit(self, matrix: UserItemMatrix) -> None:
        users_per_item = matrix.csr.getnnz(axis=0)
        self.columns = np.flatnonzero(users_per_item >= self.min_item_count)
        self.B = ease_weights(matrix.csr[:, self.columns], self.l2, threads=self._threads())

    def _score(self, rows: sp.csr_matrix) -> np.ndarray:
        assert self.B is not None and self.columns is not None and self.matrix is not None
        scores = np.full((rows.shape[0], self.matrix.n_items), -np.inf)
        if len(self.columns):
            scores[:, self.columns] = rows[:, self.columns].astype(np.float32) @ self.B
        return scores


class MultVAE(_MatrixBaseline):
    """Mult-VAE (Liang et al. 2018), the model behind the ranker's vae_* features, as a peer of its own."""

    name = "vae"

    def __init__(self, config: VAEConfig | None = None, batch_size: int = BATCH_SIZE) -> None:
        super().__init__("binary", batch_size)
        self.config = config or VAEConfig()
        self.model: VAEModel | None = None
        self.columns: np.ndarray | None = None  # matrix columns the model has (`min_users`)

    def _fit(self, matrix: UserItemMatrix) -> None:
        self.model = VAEModel.from_matrix(matrix, self.config)
        self.columns = np.searchsorted(matrix.item_ids, self.model.item_ids)

    def _score(self, rows: sp.csr_matrix) -> np.ndarray:
        assert self.model is not None and self.columns is not None and self.matrix is not None
        scores = np.full((rows.shape[0], self.matrix.n_items), -np.inf)
        if len(self.columns):
            scores[:, self.columns] = self.model.logits(rows[:, self.columns])
        return scores


Fold = tuple[Interactions, Mapping[int, AbstractSet[int]]]  # (validation train, validation test)


def tune(
    make: Callable[[dict], Baseline],
    grid: Sequence[dict],
    folds: Sequence[Fold],
    metric: str = "ndcg@10",
    *,
    k: int = 50,
    on_result: Callable[[dict, float], None] | None = None,
    progress: Callable[[int], object] | None = None,
) -> tuple[dict, float]:
    """Fit `make(params)` on each validation fold's train part for each params of `grid`, score `metric`
    on its test part (default exclusion: the user's fold-train titles), and return the best params and
    their user-weighted mean score (the first wins ties). Only validation folds go in here.

    `on_result(params, score)` is called after each grid point, then `progress(1)`.
    """
    if not grid:
        raise ValueError("empty grid")
    if not folds:
        raise ValueError("no validation folds")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    stats = [(ItemPopularity.from_interactions(train), len(train.item_ids())) for train, _ in folds]
    best: tuple[dict, float] | None = None
    for params in grid:
        total, users = 0.0, 0
        for (train, test), (popularity, n_catalog) in zip(folds, stats, strict=True):
            recs = make(dict(params)).fit(train).recommend(list(test), k)
            total += evaluate(recs, test, item_popularity=popularity, n_catalog=n_catalog)[metric] * len(test)
            users += len(test)
        score = total / max(users, 1)
        log.info("tune %s: %s=%.5f", params, metric, score)
        if on_result is not None:
            on_result(dict(params), score)
        if progress is not None:
            progress(1)
        if best is None or score > best[1]:
            best = (dict(params), score)
    assert best is not None
    return best


def _known_columns(matrix: UserItemMatrix, title_ids: Iterable[int]) -> np.ndarray:
    cols = matrix.columns(np.fromiter(title_ids, np.int64))
    return cols[cols >= 0]
