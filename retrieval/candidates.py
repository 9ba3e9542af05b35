"""Candidates with provenance: what each source proposes, and their merge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from catalog import Context


@dataclass(frozen=True, slots=True)
class Candidate:
    """One source's proposal of one title; `reason` is the human explanation of why."""

    title_id: int
    source: str
    score: float
    rank: int  # 0-based rank within its source's list
    reason: str
    anchor: int | None = None  # the title a "because you watched" candidate came from


class CandidateSource(Protocol):
    """Stage 1: one way of proposing titles for a context."""

    name: str

    def candidates(self, *, context: Context, k: int) -> list[Candidate]: ...
