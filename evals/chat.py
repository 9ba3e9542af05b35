"""`marquee eval-chat`: the assistant in conversation with simulated viewers built from held-out data.

Each session takes a test user of a temporal split and one title they rated highly after the cut: the
hidden target. The engine knows only the training period (see `evals.period_engine`); the simulated
viewer (`evals.simulator`) knows the target's facts and their own whole history, and talks for at most
five turns. A hit is the target's catalog id among a reply's titles; nothing is matched by text.

Baselines see the same sessions: the most popular unseen titles of the first request's genres, and the
engine's own list for the user with no dialogue at all, each judged at the number of titles five turns
can show. A single-turn suite of hard-constraint requests (`evals.chat_suite`) runs in the same process.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from assistant.preferences import Preferences
from assistant.service import Assistant
from assistant.state import ConversationStore
from assistant.tools import Viewer
from catalog import Dataset, Interactions, Title, load_dataset
from catalog.redial import load_redial
from catalog.splitting import Split, make_split
from engine import Bars, Engine, Reporter, Settings, Silent, assemble, checked_dataset, clean_errors
from engine import settings_from_env as settings
from evals.chat_suite import generate, run_suite
from evals.conversation import TURNS, Outcome, Session, converse, sample_sessions, summarize
from evals.phrasebook import Phrasebook
from evals.simulator import SimulatedUser, facts_of, keyword_counts
from retrieval import popularity

PICKS = 5  # titles the offline policy shows per turn
SHOWN = TURNS * PICKS  # what five turns can show: the baselines' list length
DEFAULT_SESSIONS = 100
EXAMPLES = 12  # constraint violations kept in the report
MISREAD_EXAMPLES = 3  # utterances kept per kind of misreading
KEYS = (
    "sessions",
    "hit_rate",
    "mean_turns",
    "constraint_satisfaction",
    "invented_titles",
    "repeated_seen",
    "p95_turn_ms",
)


def hit_rates(
    lists: Mapping[Session, Sequence[int]], cutoffs: Sequence[int] = (PICKS, SHOWN)
) -> dict[str, float]:
    n = max(len(lists), 1)
    return {f"hit@{k}": sum(s.target in list(ids)[:k] for s, ids in lists.items()) / n for k in cutoffs}


def popular_lists(
    outcomes: Sequence[Outcome],
    train: Interactions,
    titles: Mapping[int, Title],
    histories: Mapping[int, frozenset[int]],
) -> dict[Session, list[int]]:
    """The training period's most watched titles the user has not seen, in the first request's genres."""
    counts = popularity(train)
    ranked = sorted(titles, key=lambda t: (-counts.get(t, 0.0), t))
    out = {}
    for o in outcomes:
        seen = histories[o.session.user]
        wanted = o.first_genres
        fits = (t for t in ranked if t not in seen and (not wanted or wanted & set(titles[t].genres)))
        out[o.session] = [t for _, t in zip(range(SHOWN), fits, strict=False)]
    return out


def engine_lists(engine: Engine, sessions: Sequence[Session]) -> dict[Session, list[int]]:
    """The engine's ranked list for the user with no constraints: Top Picks without a conversation."""
    return {s: [r.title.id for r in engine.recommend(engine.context_for(s.user), k=SHOWN)] for s in sessions}


def run_chat_eval(
    settings: Settings,
    dataset_name: str,
    *,
    sessions: int = DEFAULT_SESSIONS,
    reporter: Reporter | None = None,
    dataset: Dataset | None = None,
    transcripts: int = 0,
    plot: bool = True,
) -> dict[str, Any]:
    """Split the data, build a training-period engine and an assistant over it, and `evaluate`."""
    reporter = reporter or Silent()
    started = time.perf_counter()
    dataset = dataset or load_dataset(dataset_name, settings.data_dir)
    # The viewers speak in ReDial seekers' words (train fold only; validation stays unseen).
    phrases = Phrasebook.mine(load_redial(settings.data_dir).split("train", seed=settings.seed))
    kind = "temporal" if dataset.interactions.timed else "random"
    split = make_split(dataset.interactions, kind, seed=settings.seed)
    with (
        assemble(settings, dataset.name, dataset=dataset, period=split, reporter=reporter) as engine,
        tempfile.TemporaryDirectory(prefix="marquee-chat-") as tmp,
    ):
        assistant = Assistant(engine, ConversationStore(Path(tmp) / "conversations.sqlite"))
        try:
            result = evaluate(
                assistant,
                dataset,
                split,
                sessions=sessions,
                seed=settings.seed,
                phrases=phrases,
                reporter=reporter,
                transcripts=transcripts,
                plot=plot,
            )
        finally:
            assistant.close()
    return {
        "dataset": dataset_name,
        "split": kind,
        **result,
        "seconds": round(time.perf_counter() - started, 1),
    }


def evaluate(
    assistant: Assistant,
    dataset: Dataset,
    split: Split,
    *,
    sessions: int,
    seed: int,
    phrases: Phrasebook,
    reporter: Reporter | None = None,
    transcripts: int = 0,
    plot: bool = True,
) -> dict[str, Any]:
    """Simulated conversations with `assistant` (whose engine must know only `split.train`), the
    baselines on the same sessions and the single-turn suite. `transcripts` keeps the first few
    conversations word for word; without `plot` the viewers never describe the target's story."""
    reporter = reporter or Silent()
    engine = assistant.engine
    titles = dataset.titles
    chosen = sample_sessions(split.test, sessions, seed)
    users = sorted({s.user for s in chosen})
    train_seen = {u: engine.context_for(u).history.seen() for u in users}
    inter = dataset.interactions
    everything = {u: frozenset(inter.items[inter.users == u].tolist()) for u in users}
    with reporter.stage("Loading the text model"):
        assistant.warm_up()  # the text model loads here, not on the first timed turn
        warm = Viewer("warm-up", lambda: engine.context_for(users[0]))
        assistant.respond(warm, "a dark sci-fi thriller about time travel")
    counts = keyword_counts(titles)
    latest = max((t.year for t in titles.values() if t.year), default=2020)
    outcomes = []
    with reporter.stage("Simulated conversations", total=len(chosen)) as advance:
        for i, session in enumerate(chosen):
            target = titles[session.target]
            user = SimulatedUser(
                target,
                facts=facts_of(target, counts, plot=plot),
                seen=everything[session.user],
                titles=titles,
                latest_year=latest,
                rng=np.random.default_rng([seed, i]),
                phrases=phrases,
            )
            viewer = Viewer(str(session.user), lambda u=session.user: engine.context_for(u))
            outcomes.append(
                converse(
                    assistant,
                    viewer,
                    user,
                    session,
                    history=train_seen[session.user],
                    preferences=lambda cid, p=viewer.profile_id: _preferences(assistant, cid, p),
                )
            )
            advance(1)
    figures = summarize(outcomes)
    with reporter.stage("Baselines and single-turn suite"):
        baselines = {
            "popular": hit_rates(popular_lists(outcomes, split.train, titles, train_seen)),
            "engine_rows": hit_rates(engine_lists(engine, chosen)),
            "dialogue": {f"hit@{PICKS}": figures["hit_at_turn_1"], f"hit@{SHOWN}": figures["hit_rate"]},
        }
        viewers = [Viewer(str(u), lambda u=u: engine.context_for(u)) for u in users[:10]]
        suite = run_suite(assistant, generate(titles, popularity(split.train), seed=seed), viewers, titles)
    misreads: dict[str, dict[str, Any]] = {}
    for m in (m for o in outcomes for m in o.misreads):
        kind = misreads.setdefault(m["kind"], {"count": 0, "examples": []})
        kind["count"] += 1
        example = {"utterance": m["utterance"], "read_as": m["read_as"]}
        if len(kind["examples"]) < MISREAD_EXAMPLES and all(  # examples of different readings
            e["read_as"] != m["read_as"] or m["kind"].startswith("topic") for e in kind["examples"]
        ):
            kind["examples"].append(example)
    return {
        **figures,
        "phrasebook": phrases.counts(),
        "users": len(users),
        "plot": plot,
        "baselines": baselines,
        "single_turn": suite,
        "misreads": misreads,
        "violation_examples": [v for o in outcomes for v in o.violations][:EXAMPLES],
        "transcripts": [
            {"target": titles[o.session.target].display_name, "hit": o.hit, "turns": o.transcript}
            for o in outcomes[:transcripts]
        ],
    }


def _preferences(assistant: Assistant, conversation_id: str, profile_id: str) -> Preferences | None:
    state = assistant.store.get(conversation_id, profile_id)
    return state.preferences if state is not None else None


def register(app: typer.Typer) -> None:
    @app.command("eval-chat")
    @clean_errors
    def eval_chat_command(
        dataset: Annotated[str, typer.Option("--dataset", "-d")] = "ml-latest-small",
        sessions: Annotated[
            int, typer.Option(min=1, max=2000, help="simulated conversations")
        ] = DEFAULT_SESSIONS,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
        transcripts: Annotated[int, typer.Option(min=0, help="include the first N conversations")] = 0,
        plot: Annotated[bool, typer.Option(help="viewers may describe the target's plot")] = True,
    ) -> None:
        """Evaluate the assistant against simulated viewers from held-out data, with baselines."""
        s = settings()
        name = checked_dataset(dataset)
        with Bars() as bars:
            result = run_chat_eval(
                s, name, sessions=sessions, reporter=bars, transcripts=transcripts, plot=plot
            )
        print(json.dumps(result) if as_json else table(result))


def table(result: dict[str, Any]) -> str:
    """The figures for people; --json is for machines."""
    base = result["baselines"]
    suite = result["single_turn"]
    lines = [
        f"{result['dataset']} ({result['split']} split): {result['sessions']} simulated conversations "
        f"with {result['users']} test users, {result['seconds']} s"
        + ("" if result["plot"] else " (viewers never describe the plot)"),
        f"{'hit rate (<= 5 turns)':<32}{result['hit_rate']:>10.3f}",
        f"{'mean turns (a miss counts 5)':<32}{result['mean_turns']:>10.2f}",
        f"{'constraint satisfaction':<32}{result['constraint_satisfaction']:>10.3f}",
        f"{'  strict (every genre named)':<32}{result['strict_genre_satisfaction']:>10.3f}",
        f"{'invented titles':<32}{result['invented_titles']:>10d}",
        f"{'repeated or seen titles':<32}{result['repeated_seen']:>10d}",
        f"{'p95 turn latency (ms)':<32}{result['p95_turn_ms']:>10.0f}",
        f"{'sessions with a misreading':<32}{result['sessions_with_misreads']:>10d}",
        "",
        f"{'system':<14}{'hit@5':>10}{'hit@25':>10}",
    ]
    for name, figures in base.items():
        lines.append(f"{name:<14}{figures['hit@5']:>10.3f}{figures['hit@25']:>10.3f}")
    lines += [
        "",
        f"single-turn suite ({suite['requests']} requests): constraint satisfaction "
        f"{suite['constraint_satisfaction']:.3f} (parsed {suite['parsed']:.3f}, titles fit "
        f"{suite['titles_satisfied']:.3f}), tool-call validity {suite['tool_call_validity']:.3f} "
        f"of {suite['tool_calls']}, typed recommend call fits {suite['typed_call_satisfaction']:.3f}",
    ]
    for row in suite["results"]:
        mark = "ok " if row["parsed"] and row["satisfied"] else "BAD"
        why = "; ".join(row["misread"] + row["violations"][:2])
        lines.append(f"  {mark} {row['request']}" + (f"  -- {why}" if why else ""))
    if result["violation_examples"]:
        lines += ["", "recommended titles that broke a stated constraint:"]
        lines += [
            f"  {v['utterance']!r} -> {v['title']}: {v['breaks']}" for v in result["violation_examples"]
        ]
    if result["misreads"]:
        lines += ["", "misreadings in conversation, by kind (utterance -> what the assistant understood):"]
        for kind, found in result["misreads"].items():
            lines.append(f"  {kind}: {found['count']}")
            lines += [f"    {m['utterance']!r} -> {m['read_as']}" for m in found["examples"]]
    return "\n".join(lines)
