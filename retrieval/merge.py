"""Merge candidate lists from many sources, keeping every source's provenance."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.candidates import Candidate

RRF_K = 60  # reciprocal-rank-fusion constant (Cormack et al. 2009); damps the head of each list


@dataclass(frozen=True, eq=False)
class CandidateSet:
    """Merged candidates, best fused score first; `provenance[i]` lists who proposed `ids[i]` and why."""

    ids: np.ndarray
    scores: np.ndarray
    provenance: tuple[tuple[Candidate, ...], ...]

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[tuple[int, float, tuple[Candidate, ...]]]:
        for i, s, p in zip(self.ids, self.scores, self.provenance, strict=True):
            yield int(i), float(s), p

    def top(self, n: int) -> CandidateSet:
        return CandidateSet(self.ids[:n], self.scores[:n], self.provenance[:n])

    def without_only(self, sources: frozenset[str]) -> CandidateSet:
        """Drop candidates that only these sources proposed (e.g. rewatches, outside their own rows)."""
        keep = [i for i, p in enumerate(self.provenance) if any(c.source not in sources for c in p)]
        return CandidateSet(self.ids[keep], self.scores[keep], tuple(self.provenance[i] for i in keep))


def merge(
    lists: Sequence[Sequence[Candidate]],
    *,
    weights: dict[str, float] | None = None,
    quotas: Mapping[str, int] | None = None,
) -> CandidateSet:
    """Reciprocal-rank fusion: a title's score sums w / (RRF_K + rank) over the lists that hold it.

    `quotas` reserves places: a title within the first `quotas[source]` of a source's list comes before
    every unreserved title (reserved ones keep their fused order), so a pool cut after the sum of the
    quotas holds each strong source's head whatever the weaker sources proposed.
    """
    fused: dict[int, float] = {}
    found: dict[int, list[Candidate]] = {}
    reserved: set[int] = set()
    quotas = quotas or {}
    for candidates in lists:
        for c in candidates:
            w = 1.0 if weights is None else weights.get(c.source, 1.0)
            fused[c.title_id] = fused.get(c.title_id, 0.0) + w / (RRF_K + c.rank + 1)
            found.setdefault(c.title_id, []).append(c)
            if c.rank < quotas.get(c.source, 0):
                reserved.add(c.title_id)
    order = sorted(fused, key=lambda t: (t not in reserved, -fused[t], t))
    return CandidateSet(
        ids=np.array(order, dtype=np.int64),
        scores=np.array([fused[t] for t in order], dtype=np.float64),
        provenance=tuple(tuple(found[t]) for t in order),
    )
