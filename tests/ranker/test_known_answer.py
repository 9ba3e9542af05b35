"""Stage 2 earns its place: when one feature decides the label, the trained ranker beats every source.

A catalog of four genres. Each viewer likes one genre; the titles they will watch next are exactly the
unseen titles of that genre. Two stage-1 sources ("als" and "ease") propose every unseen title in an
order only loosely related to the answer, so each alone ranks poorly. The FeatureBuilder's genre columns
carry the answer, and the ranker trained on the merged pool must beat both sources on held-out viewers.
"""

from __future__ import annotations

import numpy as np

from catalog import Context, History, Interactions, Title
from ranker.features import FeatureBuilder, TitleStats
from ranker.ltr import LTRConfig, LTRRanker, ndcg_at_k
from retrieval import ALSConfig, ALSModel, Candidate, merge

GENRES = ("Comedy", "Horror", "Romance", "Space")
PER_GENRE = 15  # ids 0-14 are Comedy, 15-29 Horror, ...
N_TITLES = PER_GENRE * len(GENRES)
SEEN = 6  # titles in each viewer's history, all from their genre


def _catalog() -> dict[int, Title]:
    return {t: Title(t, f"Title {t}", 2000, (GENRES[t // PER_GENRE],)) for t in range(N_TITLES)}


def _genre_titles(genre: int) -> np.ndarray:
    return np.arange(PER_GENRE) + PER_GENRE * genre


def _builder(titles: dict[int, Title]) -> FeatureBuilder:
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(40), SEEN)
    items = np.concatenate(
        [rng.choice(_genre_titles(u % len(GENRES)), SEEN, replace=False) for u in range(40)]
    )
    interactions = Interactions.from_arrays(users, items, np.full(len(users), 5.0), np.arange(len(users)))
    ids = np.arange(N_TITLES, dtype=np.int64)
    content = rng.normal(size=(N_TITLES, 8)).astype(np.float32)  # noise: no genre in the text vectors
    return FeatureBuilder(
        titles=titles,
        stats=TitleStats.from_interactions(interactions, ids, now=float(len(users))),
        als=ALSModel.fit(
            interactions,
            ALSConfig(
                factors=4,
                iterations=2,
                regularization=0.05,
                alpha=2.0,
                weighting="binary",
                half_life_days=None,
            ),
        ),
        content_ids=ids,
        content=content / np.linalg.norm(content, axis=1, keepdims=True),
        genres=list(GENRES),
    )


def _viewer(rng: np.random.Generator) -> tuple[Context, list[list[Candidate]], set[int]]:
    genre = int(rng.integers(len(GENRES)))
    seen = rng.choice(_genre_titles(genre), SEEN, replace=False)
    answer = set(_genre_titles(genre).tolist()) - set(seen.tolist())
    unseen = np.setdiff1d(np.arange(N_TITLES), seen)
    lists = []
    for source in ("als", "ease"):
        # Each source: the answer nudged up by a little, drowned in noise of its own.
        noisy = rng.random(len(unseen)) + 0.3 * np.isin(unseen, list(answer))
        order = unseen[np.argsort(-noisy)]
        lists.append([Candidate(int(t), source, 1.0, rank, source) for rank, t in enumerate(order)])
    history = History(
        items=seen.astype(np.int64), weights=np.full(SEEN, 5.0, np.float32), timestamps=np.arange(SEEN)
    )
    return Context(profile_id="p", history=history, now=float(SEEN)), lists, answer


def _groups(builder: FeatureBuilder, n: int, seed: int):
    rng = np.random.default_rng(seed)
    X, y, qid, per_source = [], [], [], {"als": [], "ease": []}
    for q in range(n):
        context, lists, answer = _viewer(rng)
        pool = merge(lists)
        labels = np.isin(pool.ids, list(answer)).astype(np.float32)
        X.append(builder.build(context=context, candidates=pool))
        y.append(labels)
        qid.append(np.full(len(labels), q))
        for found in lists:  # the source's own order, as a score over the same pool rows
            rank = {c.title_id: c.rank for c in found}
            per_source[found[0].source].append(-np.array([rank[t] for t in pool.ids.tolist()], np.float64))
    return (np.concatenate(X), np.concatenate(y), np.concatenate(qid)), {
        s: np.concatenate(v) for s, v in per_source.items()
    }


def test_a_deciding_feature_makes_the_ranker_beat_every_source() -> None:
    builder = _builder(_catalog())
    train, _ = _groups(builder, 60, seed=1)
    valid, _ = _groups(builder, 20, seed=2)
    test, sources = _groups(builder, 40, seed=3)
    ranker = LTRRanker.fit(
        *train, names=builder.names, config=LTRConfig(n_estimators=30, max_depth=3), eval_set=valid
    )
    X, y, qid = test
    ranked = ndcg_at_k(y, ranker.score(X), qid)
    by_source = {name: ndcg_at_k(y, scores, qid) for name, scores in sources.items()}
    assert ranked > 0.95  # the genre columns give the answer away
    assert all(ranked > 1.5 * value for value in by_source.values()), (ranked, by_source)
    # And it is the genre evidence the trees split on, not the sources' ranks.
    importance = ranker.importance()
    genre = max(importance[c] for c in importance if c.startswith("genre_"))
    assert genre > max(importance["src_als_rank"], importance["src_ease_rank"])
