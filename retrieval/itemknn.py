"""Item-to-item neighbours from co-occurrence (implicit's cosine k-NN): who watched this also watched."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from implicit.nearest_neighbours import CosineRecommender
from implicit.utils import ParameterWarning

from catalog import Interactions
from catalog.matrix import UserItemMatrix
from retrieval.csr import row_nonzeros
from retrieval.lookup import lookup


class ItemSimilarity:
    """Sparse items x items cosine similarities, the K nearest per title, over fixed title ids."""

    def __init__(self, similarity: sp.csr_matrix, item_ids: np.ndarray) -> None:
        self.similarity = similarity
        self.item_ids = item_ids

    @classmethod
    def fit(cls, interactions: Interactions, *, neighbours: int = 100) -> ItemSimilarity:
        matrix = UserItemMatrix.build(interactions)
        model = CosineRecommender(K=neighbours)
        with warnings.catch_warnings():
            # implicit converts its own intermediate COO matrix and warns about it; nothing of ours.
            warnings.filterwarnings("ignore", category=ParameterWarning)
            model.fit(matrix.csr, show_progress=False)
        return cls(sp.csr_matrix(model.similarity, dtype=np.float32), matrix.item_ids)

    def scores(
        self, history: np.ndarray, candidates: np.ndarray, *, columns: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each candidate: the sum and the max of its similarity to the history's titles. `columns`,
        when given, are the candidates' `columns` already looked up (a caller that maps a catalog once)."""
        rows = self.columns(history)
        cols = self.columns(candidates) if columns is None else columns
        total = np.zeros(len(candidates), np.float32)
        best = np.zeros(len(candidates), np.float32)
        rows = rows[rows >= 0]
        known = cols >= 0
        if len(rows) and known.any():
            # Over the history's rows' nonzeros, by column: slicing the block's columns made this the
            # costliest feature group, and scipy's row indexing cost 5x the sums.
            at, _ = row_nonzeros(self.similarity.indptr, rows)
            columns, values = self.similarity.indices[at], self.similarity.data[at]
            n = self.similarity.shape[1]
            sums = np.bincount(columns, weights=values, minlength=n)
            maxima = np.zeros(n, np.float32)  # cosines are >= 0: a title no row reaches scores 0
            np.maximum.at(maxima, columns, values)
            total[known] = sums[cols[known]]
            best[known] = maxima[cols[known]]
        return total, best

    def save(self, path: Path) -> None:
        s = self.similarity
        np.savez(path, item_ids=self.item_ids, data=s.data, indices=s.indices, indptr=s.indptr, shape=s.shape)

    @classmethod
    def load(cls, path: Path) -> ItemSimilarity:
        with np.load(path, allow_pickle=False) as d:
            similarity = sp.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"]))
            return cls(similarity, d["item_ids"])

    def columns(self, ids: np.ndarray) -> np.ndarray:
        """Each title id's row and column in the similarity matrix, -1 where it has none."""
        pos, found = lookup(self.item_ids, ids)
        return np.where(found, pos, -1)
