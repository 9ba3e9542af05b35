"""EASE as a stage-1 source: a closed-form item-item model (Steck 2019) scored in numpy.

EASE ranks better than ALS on every MovieLens protocol we measure, so it proposes candidates and its
score is a ranker feature. B is dense (items x items, float32), so only titles with at least
`min_users` training users get a row and a column; the rest are never proposed by it.
Its scores come from numpy, not Qdrant, so the request's filter is applied here, with the same
semantics as the index's (a region needs business facts, as the index payload does).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, model_validator
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits

from catalog import Business, Context, Interactions, Title
from catalog.matrix import UserItemMatrix
from retrieval.candidates import Candidate
from retrieval.filters import title_filter
from retrieval.lookup import known_positions, lookup
from retrieval.masks import FilterMasks
from retrieval.recent import RecentResults

RECENT_SCORES = 32  # profiles' scores kept (a few MiB at 10K titles): the requests in flight, and then some


class EASEConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    l2: float = 500.0  # ridge on the Gram diagonal; tuned on validation by `marquee eval`
    min_users: int = 2  # titles with fewer training users get no row/column in B
    # B is dense: its fit peaks at ~25 bytes per item² (20,000 items: 9.3 GiB; the 24 GiB wall is ~31,800).
    # Past this many titles only the most-watched get a row and a column; the rest are left to the
    # other sources (ALS, content, popularity), as the titles under `min_users` are.
    max_items: int = 20_000

    @model_validator(mode="after")
    def _check(self) -> EASEConfig:
        if not self.l2 > 0:
            raise ValueError(f"EASEConfig.l2 must be > 0; got {self.l2}")
        if self.min_users < 1:
            raise ValueError(f"EASEConfig.min_users must be >= 1; got {self.min_users}")
        if self.max_items < 1:
            raise ValueError(f"EASEConfig.max_items must be >= 1; got {self.max_items}")
        return self


def ease_weights(X: sp.csr_matrix, l2: float, *, threads: int | None = None) -> np.ndarray:
    """B = I - P·diag(1/diag(P)) with P = (XᵀX + l2·I)⁻¹, zero diagonal, float32 (Cholesky in float64)."""
    gram = (X.T @ X).astype(np.float64).toarray()
    gram[np.diag_indices_from(gram)] += l2
    with threadpool_limits(threads or os.cpu_count() or 1, user_api="blas"):
        P = _spd_inverse(gram)
    P /= -np.diag(P)[None, :]
    np.fill_diagonal(P, 0.0)
    return P.astype(np.float32)


def _spd_inverse(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite matrix via Cholesky (overwrites `a`)."""
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (a,))
    factor, info = potrf(a, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"potrf failed (info={info}): matrix not positive definite")
    inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"potri failed (info={info})")
    upper: np.ndarray = np.triu(inverse)  # LAPACK's wrappers are untyped
    upper += np.triu(inverse, 1).T
    return upper


class EASEModel:
    """B over `item_ids` (sorted); a profile's scores are the sum of B's rows for the titles it has seen."""

    def __init__(self, B: np.ndarray, item_ids: np.ndarray, config: EASEConfig) -> None:
        if B.shape != (len(item_ids), len(item_ids)):
            raise ValueError(f"B has shape {B.shape} but there are {len(item_ids)} item ids")
        self.B = B
        self.item_ids = np.asarray(item_ids, np.int64)
        self.config = config
        # Each ask is a pass over B's columns for every title seen.
        self._recent = RecentResults(RECENT_SCORES)

    @classmethod
    def fit(cls, interactions: Interactions, config: EASEConfig | None = None) -> EASEModel:
        config = config or EASEConfig()
        matrix = UserItemMatrix.build(interactions)
        users = matrix.csr.getnnz(axis=0)
        columns = np.flatnonzero(users >= config.min_users)
        if len(columns) > config.max_items:  # the most-watched, ties by position: deterministic
            kept = np.argsort(-users[columns], kind="stable")[: config.max_items]
            columns = np.sort(columns[kept])
        B = ease_weights(matrix.csr[:, columns], config.l2)
        return cls(B, matrix.item_ids[columns], config)

    def positions(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row of each title id in B (clipped) and whether it has one."""
        return lookup(self.item_ids, ids)

    def scores(self, history: np.ndarray) -> np.ndarray:
        """Scores over `item_ids` for a profile that has seen `history` (binary, as B was fitted);
        read-only, as the same array answers the same history again."""
        rows = known_positions(self.item_ids, history)

        def total() -> np.ndarray:
            if not len(rows):
                return np.zeros(len(self.item_ids), np.float32)
            summed: np.ndarray = self.B[rows].sum(axis=0)  # numpy types reductions as Any
            return summed

        return self._recent.get_or(rows.tobytes(), total)

    def save(self, path: Path) -> None:
        np.savez(path, B=self.B, item_ids=self.item_ids, config=json.dumps(self.config.model_dump()))

    @classmethod
    def load(cls, path: Path) -> EASEModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["B"], data["item_ids"], EASEConfig(**json.loads(str(data["config"]))))


class EASESource:
    """Stage-1 source: the profile's EASE scores, best first, within the request's filter."""

    name = "ease"

    def __init__(
        self, model: EASEModel, titles: Mapping[int, Title], business: Mapping[int, Business]
    ) -> None:
        self.model = model
        self._masks = FilterMasks(
            [titles.get(int(t)) for t in model.item_ids], [business.get(int(t)) for t in model.item_ids]
        )

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        h = context.history
        if not len(h) or not len(self.model.item_ids):
            return []
        scores = self.model.scores(h.items).astype(np.float64)
        allowed = self._allowed(context)
        scores[~allowed] = -np.inf
        kk = min(k, int(allowed.sum()))
        if kk <= 0:
            return []
        top = np.argpartition(-scores, kk - 1)[:kk]
        top = top[np.argsort(-scores[top], kind="stable")]
        reason = "Often watched together with titles you have seen"
        return [
            Candidate(int(self.model.item_ids[j]), self.name, float(scores[j]), rank, reason)
            for rank, j in enumerate(top.tolist())
        ]

    def _allowed(self, context: Context) -> np.ndarray:
        """The index filter's conditions as a mask over `item_ids`."""
        where = title_filter(context)
        ok = self._masks.allowed(where)
        if where.exclude_ids:
            pos, known = self.model.positions(np.fromiter(where.exclude_ids, np.int64))
            ok[pos[known]] = False
        return ok
