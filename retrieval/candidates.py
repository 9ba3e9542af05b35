"""Candidates with provenance: what each source proposes, and their merge."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from catalog import Context


class Revisit(StrEnum):
    """Why a title the profile has already seen is proposed again."""

    CONTINUE = "continue"  # the profile is part-way through it
    REWATCH = "rewatch"  # an old favourite, long unwatched


@dataclass(frozen=True, slots=True)
class Candidate:
    """One source's proposal of one title; `reason` is the human explanation of why, for people only:
    code decides by the structured fields (`anchor`, `genre`, `revisit`), never by that text."""

    title_id: int
    source: str
    score: float
    rank: int  # 0-based rank within its source's list
    reason: str
    anchor: int | None = None  # the title a "because you watched" candidate came from
    genre: str | None = None  # the favourite genre a genre candidate came from
    revisit: Revisit | None = None  # set on a seen title proposed again: continue or rewatch


class CandidateSource(Protocol):
    """Stage 1: one way of proposing titles for a context."""

    name: str

    def candidates(self, *, context: Context, k: int) -> list[Candidate]: ...
