from __future__ import annotations

import warnings

import numpy as np
import pytest

from catalog.interactions import Interactions
from evals.baselines import EASE, Baseline, ItemKNN, Popular, tune
from evals.metrics import evaluate

ALL_USERS = list(range(30))


def _block(item: int) -> int:
    return item // 100


def _user_block(user: int) -> int:
    return 1 if user < 10 else 2


# --- Popular ----------------------------------------------------------------------------------


def test_popular_ranks_by_count_and_excludes_training(two_block):
    train, _ = two_block
    model = Popular().fit(train)
    recs = model.recommend(ALL_USERS, 3)
    # block B titles are each seen by 16 users, block A titles by 8; ties go to the smaller id.
    assert recs[0].tolist() == [200, 201, 202]
    for user in range(10, 30):
        # only the held-out B title and the (less popular) A titles are left
        assert recs[user].tolist() == [200 + user % 5, 100, 101]
    seen = train.items_by_user()
    for user, items in recs.items():
        assert not set(items.tolist()) & set(seen[user].tolist())
    # block-B users: their held-out title first, then A titles by id.
    assert model.recommend([10], 3)[10].tolist() == [200, 100, 101]


def test_popular_counts():
    train = Interactions.from_arrays(
        np.array([1, 2, 3, 1, 2, 1, 4]),
        np.array([30, 30, 30, 20, 20, 10, 40]),
        np.array([1, 1, 1, 5, 5, 5, 5]),
    )
    assert Popular().fit(train).recommend([99], 4)[99].tolist() == [30, 20, 10, 40]
    # with rating weighting: 20 -> 10, 10 -> 5, 40 -> 5, 30 -> 3
    assert Popular(weighting="rating").fit(train).recommend([99], 4)[99].tolist() == [20, 10, 40, 30]


def test_unknown_user_gets_popular(two_block):
    train, _ = two_block
    for model in (Popular(), ItemKNN(K=10), EASE(l2=1.0)):
        model.fit(train)
        recs = model.recommend([12345], 4)
        assert recs[12345].tolist() == [200, 201, 202, 203], model.name


def test_custom_exclude_replaces_default(two_block):
    train, _ = two_block
    model = Popular().fit(train)
    recs = model.recommend([0, 1], 2, exclude={0: {200, 999}})
    assert recs[0].tolist() == [201, 202]
    assert recs[1].tolist() == [200, 201]  # user 1 missing from exclude: nothing excluded


def test_short_catalogue():
    train = Interactions.from_arrays(np.array([1, 2, 2]), np.array([10, 10, 20]))
    for model in (Popular(), ItemKNN(K=5), EASE(l2=1.0, min_item_count=1)):
        recs = model.fit(train).recommend([1, 2, 3], 5)
        assert recs[1].tolist() == [20], model.name
        assert recs[2].tolist() == [], model.name
        assert recs[3].tolist() == [10, 20], model.name
        assert recs[1].dtype == np.int64


# --- co-occurrence models on the two-block data -------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        EASE(l2=1.0),
        EASE(l2=500.0),
        EASE(l2=10.0, weighting="rating"),
        ItemKNN(K=10, kind="cosine"),
        ItemKNN(K=10, kind="bm25"),
        ItemKNN(K=10, kind="tfidf"),
    ],
    ids=lambda m: f"{m.name}",
)
def test_held_out_title_ranked_first(two_block, model: Baseline):
    train, test = two_block
    model.fit(train)
    recs = model.recommend(ALL_USERS, 5)
    seen = train.items_by_user()
    for user in ALL_USERS:
        top = recs[user].tolist()
        assert top[0] in test[user], (user, top)
        assert _block(top[0]) == _user_block(user)
        assert not set(top) & set(seen[user].tolist())
        assert len(top) == 5
    result = evaluate(recs, test, item_popularity=train, n_catalog=10)
    assert result["ndcg@10"] == pytest.approx(1.0)
    # Popular, for contrast, fails every block-A user.
    popular = evaluate(
        Popular().fit(train).recommend(ALL_USERS, 5), test, item_popularity=train, n_catalog=10
    )
    assert popular["ndcg@10"] < 0.7


def test_ease_matches_closed_form():
    rng = np.random.default_rng(3)
    dense = (rng.random((40, 12)) < 0.3).astype(np.float64)
    dense[:, 0] = 1.0  # every title has >= 1 user, so all get a column
    dense[0, :] = 1.0
    users, items = np.nonzero(dense)
    train = Interactions.from_arrays(users, items + 500)
    l2 = 3.0
    P = np.linalg.inv(dense.T @ dense + l2 * np.eye(12))
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0.0)
    model = EASE(l2=l2, min_item_count=1).fit(train)
    assert model.B is not None
    np.testing.assert_allclose(model.B, B, rtol=1e-5, atol=1e-6)
    scores = model._score(model.matrix.csr)
    np.testing.assert_allclose(scores, dense @ B, rtol=1e-4, atol=1e-5)
    # recommendations are the closed-form scores' order over unseen titles
    recs = model.recommend([5], 3)[5]
    expected = dense[5] @ B
    expected[dense[5] > 0] = -np.inf
    assert recs.tolist() == (np.argsort(-expected, kind="stable")[:3] + 500).tolist()


def test_ease_min_item_count_drops_rare_titles():
    # title 9 has a single user: no column in B, but it can still come from the popular top-up.
    train = Interactions.from_arrays(np.array([1, 1, 2, 2, 3, 3]), np.array([5, 6, 5, 6, 5, 9]))
    model = EASE(l2=1.0).fit(train)
    assert model.matrix is not None and model.columns is not None
    assert model.matrix.item_ids[model.columns].tolist() == [5, 6]
    assert model.recommend([3], 2)[3].tolist() == [6]  # 9 excluded as seen; 6 is the only other
    assert model.recommend([1], 3)[1].tolist() == [9]


def test_itemknn_matches_implicit_recommend():
    from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

    rng = np.random.default_rng(5)
    users = rng.integers(0, 120, 2500)
    items = rng.integers(0, 80, 2500) + 1000
    ratings = rng.integers(1, 6, 2500)
    train = Interactions.from_arrays(users, items, ratings)
    for kind, reference in (("cosine", CosineRecommender(K=15)), ("bm25", BM25Recommender(K=15))):
        model = ItemKNN(K=15, kind=kind, weighting="rating").fit(train)
        assert model.matrix is not None
        X = model.matrix.csr
        with warnings.catch_warnings():  # implicit's own weighting hands itself a coo matrix
            warnings.simplefilter("ignore")
            reference.fit(X, show_progress=False)
        ids, scores = reference.recommend(np.arange(X.shape[0]), X, N=10, filter_already_liked_items=True)
        recs = model.recommend(model.matrix.user_ids, 10)
        ours = model._score(X)
        for row, user in enumerate(model.matrix.user_ids):
            cols = np.searchsorted(model.matrix.item_ids, recs[int(user)])
            # same scores rank by rank (ids may differ only between tied scores)
            np.testing.assert_allclose(ours[row, cols], scores[row], rtol=1e-5)


def test_invalid_arguments(two_block):
    train, _ = two_block
    with pytest.raises(ValueError):
        ItemKNN(kind="jaccard")
    with pytest.raises(ValueError):
        EASE(l2=0.0)
    with pytest.raises(RuntimeError):
        Popular().recommend([1], 5)
    with pytest.raises(ValueError):
        Popular().fit(train).recommend([1], 0)


def test_baselines_satisfy_protocol():
    models: list[Baseline] = [Popular(), ItemKNN(), EASE()]
    assert [m.name for m in models] == ["popular", "itemknn-cosine", "ease"]


# --- tune ---------------------------------------------------------------------------------------


def test_tune_picks_best_on_validation(two_block):
    train, test = two_block

    def make(params: dict) -> Baseline:
        if params["model"] == "popular":
            return Popular()
        return EASE(l2=params["l2"])

    seen: list[tuple[dict, float]] = []
    steps: list[int] = []
    grid = [{"model": "popular"}, {"model": "ease", "l2": 1.0}, {"model": "ease", "l2": 5.0}]
    best, score = tune(
        make, grid, [(train, test)], on_result=lambda p, s: seen.append((p, s)), progress=steps.append
    )
    assert steps == [1, 1, 1]
    assert best == {"model": "ease", "l2": 1.0}  # ties: the first wins
    assert score == pytest.approx(1.0)
    assert [p for p, _ in seen] == grid
    # popular: held-out first for block-B users, 6th (after the five B titles) for block-A users
    assert seen[0][1] == pytest.approx((20 + 10 / np.log2(7)) / 30)
    best, score = tune(make, grid[:1], [(train, test)], metric="recall@50")
    assert best == {"model": "popular"}
    # Two copies of one fold score like one: the mean is weighted by users, not summed.
    _, twice = tune(make, grid[:1], [(train, test), (train, test)])
    assert twice == pytest.approx(seen[0][1])
    with pytest.raises(ValueError):
        tune(make, [], [(train, test)])
    with pytest.raises(ValueError):
        tune(make, grid, [])
    with pytest.raises(ValueError):
        tune(make, grid, [(train, test)], metric="ndcg@7")
