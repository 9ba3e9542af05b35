"""The engine under concurrent requests: threads get the answers serial calls get, writes are neither
lost nor doubled, and each request's fallback reason stays its own. Runs on the session's engine
(tests/conftest.py), with profiles and row names of its own."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from catalog import Context, Event, EventKind
from engine import Engine, IndexUnavailableError
from engine.experiments import EXPERIMENTS_FILE, ServedPages

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
THREADS = 8
NOW = 1_700_000_000.0  # a fixed moment: the same request, asked twice, is the same request


def _contexts(engine: Engine) -> list[Context]:
    """Stored profiles with histories of their own, and data set users."""
    account = engine.accounts().create_account("household")
    titles = sorted(engine.titles())
    contexts = []
    for n in range(4):
        profile = engine.accounts().create_profile(
            account.id, f"p{n}", maturity_limit="PG-13" if n % 2 else None
        )
        watched = titles[n * 7 : n * 7 + 3 + n]
        engine.record(
            [Event(f"w{t}", profile.id, t, EventKind.PLAY, ts=NOW - 100 + i) for i, t in enumerate(watched)]
        )
        contexts.append(engine.profile_context(profile.id, now=NOW, device="tv"))
    users = sorted(engine.interactions().user_ids().tolist())
    return contexts + [engine.context_for(u) for u in users[:4]]


def _answers(engine: Engine, context: Context) -> tuple[Any, ...]:
    """Everything a profile can ask for, in one go."""
    return (
        engine.rows(context),
        engine.rows(context, arm="candidate_order"),
        engine.recommend(context, k=10),
        engine.search("toy story", context, k=5),
        engine.similar(1, context, k=5),
        engine.post_watch(context, 1, k=5),
        len(engine.candidates(context)),
    )


def test_concurrent_requests_answer_as_serial_ones(engine: Engine) -> None:
    started = time.time()
    contexts = _contexts(engine)
    serial = [_answers(engine, c) for c in contexts]
    with ThreadPoolExecutor(THREADS) as pool:
        concurrent = list(pool.map(lambda c: _answers(engine, c), contexts * 3))
    assert concurrent == serial * 3
    assert all(rows for answers in serial for rows in answers[:2])
    # Every page served under an arm was logged once, whole.
    pages = ServedPages(engine.settings().dataset_state("ml-latest-small") / EXPERIMENTS_FILE)
    mine = {c.profile_id for c in contexts}
    logged = [p for p in pages.pages() if p.profile_id in mine and p.ts >= started]
    pages.close()
    assert len(logged) == 4 * len(contexts)
    assert {p.arm for p in logged} == {"candidate_order"} and all(p.latency_ms > 0 for p in logged)


def test_concurrent_feedback_is_stored_once_and_counted_once(engine: Engine) -> None:
    account = engine.accounts().create_account("household")
    profile = engine.accounts().create_profile(account.id, "p").id
    titles = sorted(engine.titles())[:40]

    def batch(n: int) -> list[Event]:
        # Every batch is sent by two threads: the second copy must be recognised as a duplicate.
        kind = EventKind.PLAY if n % 4 == 0 else EventKind.IMPRESSION
        return [
            Event(f"b{n}-{i}", profile, t, kind, ts=NOW + n, context={"artwork": "mood"}, row="stress")
            for i, t in enumerate(titles[n % 10 : n % 10 + 5])
        ]

    batches = [batch(n) for n in range(24)]
    with ThreadPoolExecutor(THREADS) as pool:
        stored = list(pool.map(engine.record, batches + batches))
    firsts = [max(a, b, key=sum) for a, b in zip(stored[:24], stored[24:], strict=True)]
    seconds = [min(a, b, key=sum) for a, b in zip(stored[:24], stored[24:], strict=True)]
    assert all(all(f) for f in firsts) and not any(any(s) for s in seconds)  # each batch stored whole, once
    assert engine._state.store.count(profile) == 24 * 5
    plays = sum(5 for n in range(24) if n % 4 == 0)
    # Plays of 3.5 make no title liked, so every event counted in the "new" segment's row posterior.
    assert engine._state.row_order.posterior("new", "stress") == (1 + plays, 1 + 24 * 5 - plays)
    memory = {t: engine._state.artwork.posterior(t, "new", "mood") for t in titles}
    engine._state.artwork.refresh()
    engine._state.row_order.refresh()
    assert {t: engine._state.artwork.posterior(t, "new", "mood") for t in titles} == memory  # file agrees
    assert engine._state.row_order.posterior("new", "stress") == (1 + plays, 1 + 24 * 5 - plays)


def test_each_request_keeps_its_own_fallback_reason(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """One thread's index is down, the other's is up; both read the reason after both have finished."""
    for method in ("search", "top_by", "vectors"):
        real = getattr(engine._parts.index, method)

        def flaky(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            if threading.current_thread().name.startswith("down"):
                raise IndexUnavailableError("Qdrant is unavailable: connection refused")
            return _real(*args, **kwargs)

        monkeypatch.setattr(engine._parts.index, method, flaky)
    context = engine.context_for(sorted(engine.interactions().user_ids().tolist())[0])
    both_served = threading.Barrier(2)
    reasons: dict[str, str | None] = {}
    pages: dict[str, int] = {}

    def serve() -> None:
        name = threading.current_thread().name
        page = engine.rows(context)
        pages[name] = len(page)
        both_served.wait(timeout=60)
        reasons[name] = page.fallback

    threads = [threading.Thread(target=serve, name=name) for name in ("down", "up")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert pages["down"] and pages["up"]
    assert reasons["up"] is None
    assert reasons["down"] is not None and "unavailable" in reasons["down"]


def test_warming_builds_the_search_word_index_once_for_every_later_search(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.warm()
    built = engine._searcher._lexical
    assert built is not None

    def no_second_build(*_: Any) -> None:
        raise AssertionError("the word index was built again")

    monkeypatch.setattr("engine.search.LexicalIndex", no_second_build)
    found = engine.search("a heist that goes wrong", engine.context_for(1), k=5)
    assert found and engine._searcher._lexical is built
