"""Row assembly: faithful explanations, one appearance per title, history only in its own rows."""

from __future__ import annotations

import numpy as np

from catalog import Title
from ranker.blend import BlendWeights
from ranker.rows import RowBuilder, RowsConfig, Scored
from retrieval import Candidate, Revisit

TITLES = {i: Title(i, f"Film {i}", 2000 + i % 20, ("Sci-Fi",) if i % 2 else ("Drama",)) for i in range(1, 61)}


def _scored(lists: list[list[Candidate]]) -> Scored:
    by_id: dict[int, list[Candidate]] = {}
    for candidates in lists:
        for c in candidates:
            by_id.setdefault(c.title_id, []).append(c)
    ids = np.array(sorted(by_id), dtype=np.int64)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(ids), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Scored(
        ids=ids,
        scores=np.linspace(1.0, 0.0, len(ids)),
        provenance=tuple(tuple(by_id[int(t)]) for t in ids),
        vectors=vectors,
        popularity=np.arange(len(ids), dtype=np.float64)[::-1],
    )


def _source(name: str, ids: range, reason: str, anchor: int | None = None) -> list[Candidate]:
    return [Candidate(t, name, 1.0, r, reason, anchor) for r, t in enumerate(ids)]


def test_rows_are_faithful_and_titles_appear_once() -> None:
    scored = _scored(
        [
            _source("als", range(1, 31), "Viewers with tastes like yours rated it highly"),
            _source("similar", range(20, 32), "Because you watched Film 55", anchor=55),
            _source("similar", range(32, 40), "Because you watched Film 56", anchor=56),
            _source("trending", range(25, 45), "Trending right now"),
            [Candidate(50, "history", 1.0, 0, "Continue watching", revisit=Revisit.CONTINUE)],
        ]
    )
    rows = RowBuilder(TITLES, RowsConfig(row_length=10, min_items=3)).build(
        scored=scored, favourite_genres=["Sci-Fi"]
    )
    kinds = [r.kind for r in rows]
    assert kinds[0] == "continue_watching" and rows[0].items[0].title_id == 50
    shown = [item.title_id for row in rows for item in row.items]
    assert len(shown) == len(set(shown)), "a title appears in at most one row"
    assert shown.count(50) == 1, "history titles only in their own rows"
    for row in rows:
        for item in row.items:
            provenance = scored.provenance[int(np.flatnonzero(scored.ids == item.title_id)[0])]
            if row.kind == "because_you_watched":
                anchor = int(row.id.split(":")[1])
                assert item.reason["anchor"] == anchor
                assert any(c.source == "similar" and c.anchor == anchor for c in provenance)
                assert item.explanation == f"Because you watched Film {anchor}"
                assert row.heading == f"Because You Watched Film {anchor}"
            elif row.kind == "trending":
                assert any(c.source == "trending" for c in provenance)
                assert item.explanation == "Trending right now"
            elif row.kind == "genre":
                assert "Sci-Fi" in TITLES[item.title_id].genres
            assert item.explanation


def test_thin_rows_are_dropped_but_pinned_rows_stay() -> None:
    scored = _scored(
        [
            _source("trending", range(1, 3), "Trending"),
            [Candidate(9, "history", 1.0, 0, "Continue watching", revisit=Revisit.CONTINUE)],
        ]
    )
    rows = RowBuilder(TITLES, RowsConfig(min_items=4)).build(scored=scored, favourite_genres=[])
    assert [r.kind for r in rows] == ["continue_watching", "top_picks"]
    assert len(rows[1].items) == 2  # the two trending titles, shown once: in Top Picks


def test_revisit_and_genre_rows_follow_the_candidates_data_not_their_wording() -> None:
    """Continue Watching and Watch It Again split by `revisit`, a genre row's items are explained by the
    genre candidate of that genre: rewording a reason (or translating it) changes no row."""
    genre = [
        Candidate(t, "genre", 1.0, r, "Beliebt im Genre", genre="Sci-Fi")
        for r, t in enumerate(range(1, 20, 2))
    ]
    scored = _scored(
        [
            _source("als", range(1, 21), "Viewers with tastes like yours rated it highly"),
            genre,
            [Candidate(41, "history", 1.0, 0, "Weiterschauen", revisit=Revisit.CONTINUE)],
            [Candidate(42, "history", 0.5, 1, "Continue watching", revisit=Revisit.REWATCH)],
            [Candidate(43, "history", 0.5, 2, "Noch einmal", revisit=Revisit.REWATCH)],
        ]
    )
    config = RowsConfig(row_length=4, min_items=2, genre_rows=1)
    rows = {r.kind: r for r in RowBuilder(TITLES, config).build(scored=scored, favourite_genres=["Sci-Fi"])}
    assert [i.title_id for i in rows["continue_watching"].items] == [41]
    assert [i.title_id for i in rows["watch_again"].items] == [42, 43]
    assert not {41, 42, 43} & {i.title_id for i in rows["top_picks"].items}
    assert rows["genre"].items and all(
        i.explanation == "Beliebt im Genre" and i.reason["source"] == "genre" for i in rows["genre"].items
    )


def test_top_picks_explore_at_the_configured_rate_and_say_so() -> None:
    scored = _scored([_source("als", range(1, 61), "Viewers with tastes like yours rated it highly")])
    rng = np.random.default_rng(7)
    for epsilon, low, high in ((0.0, 0, 0), (0.3, 40, 80), (1.0, 200, 200)):
        builder = RowBuilder(TITLES, RowsConfig(row_length=10, min_items=3, explore_epsilon=epsilon))
        explored = 0
        for _ in range(200):
            top = next(
                r for r in builder.build(scored=scored, favourite_genres=[], rng=rng) if r.kind == "top_picks"
            )
            marked = [item for item in top.items if item.reason.get("source") == "explore"]
            assert len(marked) <= 1
            if marked:
                explored += 1
                assert marked[0].explanation.startswith("Something a little different")
                assert top.items.index(marked[0]) == builder.config.explore_slot
        assert low <= explored <= high, (epsilon, explored)  # 0.3 x 200 = 60, binomial sd ~6.5
    plain = RowBuilder(TITLES, RowsConfig(row_length=10, min_items=3, explore_epsilon=1.0))
    top = plain.build(scored=scored, favourite_genres=[])[0]
    assert all(item.reason.get("source") != "explore" for item in top.items)  # no rng: no exploration


def test_a_rows_diversity_is_the_blends() -> None:
    scored = _scored([_source("als", range(1, 41), "Viewers with tastes like yours rated it highly")])

    def top_picks(diversity: float) -> list[int]:
        builder = RowBuilder(
            TITLES, RowsConfig(row_length=10, min_items=3), BlendWeights(diversity=diversity)
        )
        top = next(r for r in builder.build(scored=scored, favourite_genres=[]) if r.kind == "top_picks")
        return [item.title_id for item in top.items]

    assert top_picks(0.0) == list(range(1, 11))  # no diversity: the blended score's order
    assert top_picks(0.9) != top_picks(0.0)
