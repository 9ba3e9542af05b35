"""One simulated conversation with the assistant, judged turn by turn, and the figures over many.

A hit is the target's catalog id among a reply's titles; nothing is matched by text. Every recommended
title is judged against the hard constraints the viewer has stated so far, and counted as repeated when
it is in the viewer's history, was declared seen, or was shown earlier in the conversation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from assistant.preferences import Preferences
from assistant.reply import Reply
from assistant.tools import Viewer
from evals.hard_constraints import Stated
from evals.simulator import SimulatedUser

TURNS = 5


class Responder(Protocol):
    """Anything that answers a viewer's message as the assistant does."""

    def respond(self, viewer: Viewer, text: str, *, conversation_id: str | None = None) -> Reply: ...


@dataclass(frozen=True)
class Session:
    user: int
    target: int


@dataclass
class Outcome:
    """One simulated conversation: whether and when the target was shown, and how every pick was judged."""

    session: Session
    hit: bool = False
    turns: int = TURNS
    judged: int = 0  # recommended titles, over all turns
    satisfied: int = 0  # of them, keeping every hard constraint stated so far
    all_genres: int = 0  # of them, having every genre named (the strict reading)
    invented: int = 0
    repeated: int = 0  # recommended though in the history, declared seen, or shown before
    questions: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    misreads: list[dict[str, str]] = field(default_factory=list)
    violations: list[dict[str, str]] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    first_genres: frozenset[str] = frozenset()


def sample_sessions(test: Mapping[int, frozenset[int]], n: int, seed: int) -> list[Session]:
    """Up to n (user, target) pairs, users in turn (seeded order), each user's targets in seeded order."""
    rng = np.random.default_rng(seed)
    pools = {u: [int(t) for t in rng.permutation(sorted(items))] for u, items in sorted(test.items())}
    out: list[Session] = []
    while len(out) < n and any(pools.values()):
        for u in rng.permutation(sorted(u for u, pool in pools.items() if pool)):
            if len(out) < n:
                out.append(Session(int(u), pools[int(u)].pop()))
    return out


def converse(
    assistant: Responder,
    viewer: Viewer,
    user: SimulatedUser,
    session: Session,
    *,
    history: frozenset[int],
    preferences: Callable[[str], Preferences | None] | None = None,
) -> Outcome:
    """Up to TURNS turns between the simulated viewer and the assistant.

    `preferences(conversation_id)` returns the assistant's dialogue state preferences after a turn (or
    None), to record where it read the viewer differently from what they said."""
    outcome = Outcome(session)
    conversation: str | None = None
    shown: set[int] = set()
    known_misreads: set[tuple[str, str]] = set()
    liked_before: set[int] = set()
    topic_held = False  # the assistant's state held a mood or reference title after the previous turn
    text = user.opening()
    outcome.first_genres = user.stated.genres
    for turn in range(1, TURNS + 1):
        started = time.perf_counter()
        reply = assistant.respond(viewer, text, conversation_id=conversation)
        outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
        conversation = reply.conversation_id or conversation
        ids = [card.title_id for card in reply.titles]
        outcome.transcript.append(
            {"user": text, "titles": [c.name for c in reply.titles], "question": reply.question}
        )
        outcome.questions += reply.question
        outcome.invented += reply.invented
        for card in reply.titles:
            outcome.judged += 1
            broken = user.stated.violations(card, card.title_id)
            outcome.satisfied += not broken
            if broken:
                outcome.violations.append(
                    {"utterance": text, "title": card.name, "breaks": "; ".join(broken)}
                )
            outcome.all_genres += user.stated.all_genres(card)
            outcome.repeated += card.title_id in history | shown | user.declared_seen
        shown.update(ids)
        prefs = preferences(conversation) if preferences is not None and conversation else None
        if prefs is not None:
            liked = [t for t in prefs.liked_titles if t not in liked_before]
            liked_before.update(liked)
            problems = misread(
                prefs, user.stated, user.said_topics, said_now=user.last_kinds, held_before=topic_held
            )
            topic_held = bool(prefs.moods or prefs.liked_titles)
            if liked:
                names = ", ".join(user.titles[t].display_name for t in liked[:3] if t in user.titles)
                problems.append(("title not named", f"taken as liked: {names}"))
            for kind, detail in problems:
                if (kind, detail) not in known_misreads:
                    known_misreads.add((kind, detail))
                    outcome.misreads.append({"kind": kind, "utterance": text, "read_as": detail})
        if session.target in ids:
            outcome.hit, outcome.turns = True, turn
            break
        if turn < TURNS:
            picks = [(card.title_id, card, card.name) for card in reply.titles]
            text = user.respond(question=reply.question, picks=picks)
    return outcome


def misread(
    prefs: Preferences,
    stated: Stated,
    topics: bool,
    *,
    said_now: frozenset[str] = frozenset(),
    held_before: bool = False,
) -> list[tuple[str, str]]:
    """Where the assistant's reading of the conversation differs from what was said in it, as (kind,
    detail): hard constraints read wrongly, and topics (keywords, plot) of which nothing is left.

    `said_now`: the kinds of fact the last message said; `held_before`: whether a mood or reference
    title was held before it. A topic is "not understood" when the message said one and nothing is held
    after it, "dropped" when something was held and the message lost it (the offline policy starts a
    fresh request when a genre is named)."""
    out = []
    if extra := sorted(set(prefs.genres) - stated.genres):
        out.append(("genre not asked for", f"genres {extra}"))
    if set(prefs.exclude_genres) != stated.exclude_genres:
        out.append(("excluded genres", f"{sorted(prefs.exclude_genres)} for {sorted(stated.exclude_genres)}"))
    if (prefs.year_min, prefs.year_max) != (stated.year_min, stated.year_max):
        out.append(
            ("era", f"years {prefs.year_min}..{prefs.year_max} for {stated.year_min}..{stated.year_max}")
        )
    if prefs.max_runtime != stated.max_runtime:
        out.append(("runtime", f"limit {prefs.max_runtime} for {stated.max_runtime}"))
    if topics and not prefs.moods and not prefs.liked_titles:
        if held_before:
            kind = "topic dropped when a genre was named" if "genre" in said_now else "topic dropped"
            out.append((kind, "no mood or reference title left of the topics said"))
        elif "topic" in said_now:
            out.append(("topic not understood", "no mood or reference title read from it"))
    return out


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    n = max(len(outcomes), 1)
    judged = sum(o.judged for o in outcomes)
    latencies = [ms for o in outcomes for ms in o.latencies_ms]
    return {
        "sessions": len(outcomes),
        "hit_rate": sum(o.hit for o in outcomes) / n,
        "mean_turns": sum(o.turns for o in outcomes) / n,
        "constraint_satisfaction": sum(o.satisfied for o in outcomes) / judged if judged else 1.0,
        "invented_titles": sum(o.invented for o in outcomes),
        "repeated_seen": sum(o.repeated for o in outcomes),
        "p95_turn_ms": float(np.percentile(latencies, 95)) if latencies else 0.0,
        "mean_turn_ms": float(np.mean(latencies)) if latencies else 0.0,
        "hit_at_turn_1": sum(o.hit and o.turns == 1 for o in outcomes) / n,
        "strict_genre_satisfaction": sum(o.all_genres for o in outcomes) / judged if judged else 1.0,
        "recommended_titles": judged,
        "questions": sum(o.questions for o in outcomes),
        "sessions_with_misreads": sum(bool(o.misreads) for o in outcomes),
    }
