"""Beyond-accuracy figures of top-10 lists: intra-list diversity and the long tail's share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from catalog import Dataset
from ranker import intra_list_diversity

K = 10
HEAD_SHARE = 0.2  # the most popular 20% of trained-on titles are the "short head" (Abdollahpouri et al.)

Vectors = Callable[[Sequence[int]], np.ndarray]


def vectors_of(dataset: Dataset, content: np.ndarray) -> Vectors:
    """Title ids -> their unit content vectors (rows of `content` follow sorted title ids)."""
    ids = np.array(sorted(dataset.titles), np.int64)

    def lookup(title_ids: Sequence[int]) -> np.ndarray:
        return content[np.searchsorted(ids, np.asarray(title_ids, np.int64))]

    return lookup


def beyond_accuracy(
    rankings: Mapping[int, Sequence[int]], vectors: Vectors, popularity: Mapping[int, float]
) -> dict[str, float]:
    """Mean intra-list diversity (cosine distance) and mean share of long-tail titles in each top 10."""
    counts = np.array(sorted(popularity.values(), reverse=True))
    head_cut = counts[max(int(len(counts) * HEAD_SHARE) - 1, 0)] if len(counts) else np.inf
    ild, tail = [], []
    for ranked in rankings.values():
        top = [int(t) for t in list(ranked)[:K]]
        if len(top) < 2:
            continue
        ild.append(intra_list_diversity(vectors(top)))
        tail.append(np.mean([popularity.get(t, 0.0) < head_cut for t in top]))
    return {
        f"ild@{K}": float(np.mean(ild)) if ild else 0.0,
        f"long_tail@{K}": float(np.mean(tail)) if tail else 0.0,
    }
