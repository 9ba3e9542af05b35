"""User-based neighbours: known answers on hand-made viewers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog import Interactions
from retrieval.userknn import UserNeighbours
from tests.retrieval.blocks import ROMANCE, SPACE, block_interactions


def _viewers(sets: list[tuple[int, ...]]) -> Interactions:
    users = [u for u, titles in enumerate(sets) for _ in titles]
    items = [t for titles in sets for t in titles]
    return Interactions.from_arrays(
        np.array(users), np.array(items), np.full(len(users), 4.0), np.arange(len(users), dtype=np.int64)
    )


def test_neighbours_vote_for_what_similar_viewers_watched() -> None:
    neighbours = UserNeighbours.fit(block_interactions(), neighbours=10)
    share, rank = neighbours.scores(np.array(SPACE[:2]), np.array([SPACE[4], ROMANCE[0], 999]))
    assert share[0] > 0 and share[1] == 0 and share[2] == 0  # same block, other block, unknown title
    assert rank[0] < rank[1] <= rank[2]  # a title no neighbour watched, then an unknown one, rank last
    columns = neighbours.matrix.columns(np.array([SPACE[4], ROMANCE[0], 999]))
    again = neighbours.scores(np.array(SPACE[:2]), np.array([SPACE[4], ROMANCE[0], 999]), columns=columns)
    np.testing.assert_array_equal(again[0], share)
    np.testing.assert_array_equal(again[1], rank)


def test_a_profiles_votes_are_counted_once_per_set_of_titles(monkeypatch: pytest.MonkeyPatch) -> None:
    neighbours = UserNeighbours.fit(block_interactions(), neighbours=10)
    counted: list[np.ndarray] = []
    votes = neighbours._votes

    def counting(seen: np.ndarray) -> np.ndarray:
        counted.append(seen)
        return votes(seen)

    monkeypatch.setattr(neighbours, "_votes", counting)
    candidates = np.array([SPACE[4], ROMANCE[0]])
    first = neighbours.scores(np.array(SPACE[:2]), candidates)
    again = neighbours.scores(np.array([SPACE[1], SPACE[0], SPACE[1]]), candidates)  # reordered, repeated
    other = neighbours.scores(np.array(ROMANCE[:2]), candidates)
    assert len(counted) == 2  # the same titles were counted once; another profile's were counted anew
    for kept, fresh in zip(first, again, strict=True):
        np.testing.assert_array_equal(kept, fresh)
    assert other[0][1] > 0 and other[0][0] == 0  # the romance profile's votes, not the space one's


def test_closer_viewers_weigh_more() -> None:
    # Viewer 0 shares three titles with the profile and adds 10; viewer 1 shares one and adds 11.
    interactions = _viewers([(1, 2, 3, 10), (1, 11), (1, 11)])
    share, rank = UserNeighbours.fit(interactions, neighbours=1).scores(
        np.array([1, 2, 3]), np.array([10, 11])
    )
    assert share[0] == pytest.approx(1.0) and share[1] == 0  # one neighbour: the closest
    share, rank = UserNeighbours.fit(interactions, neighbours=3).scores(
        np.array([1, 2, 3]), np.array([10, 11])
    )
    # 10 has one close viewer; 11 two distant ones (cosine 0.866 vs 0.408 each): the closest still wins.
    assert share[0] > share[1] > 0 and rank[0] < rank[1]


def test_a_viewer_with_nothing_new_is_no_neighbour() -> None:
    # The profile is viewer 0's whole history (as evaluation serves a training user): viewer 0 is its
    # own perfect match but has nothing to add, so viewer 1, who watched 5 besides, is the neighbour.
    interactions = _viewers([(1, 2, 3), (1, 2, 5)])
    share, _ = UserNeighbours.fit(interactions, neighbours=1).scores(np.array([1, 2, 3]), np.array([5]))
    assert share[0] == pytest.approx(1.0)


def test_a_profile_without_known_titles_gets_no_votes() -> None:
    neighbours = UserNeighbours.fit(block_interactions())
    share, rank = neighbours.scores(np.array([999]), np.array(SPACE))
    assert not share.any() and len(set(rank)) == 1


def test_saved_neighbours_score_the_same(tmp_path: Path) -> None:
    neighbours = UserNeighbours.fit(block_interactions(), neighbours=5)
    neighbours.save(tmp_path / "users.npz")
    loaded = UserNeighbours.load(tmp_path / "users.npz")
    history, candidates = np.array(ROMANCE[:2]), np.array([*ROMANCE, *SPACE])
    for got, want in zip(
        loaded.scores(history, candidates), neighbours.scores(history, candidates), strict=True
    ):
        np.testing.assert_allclose(got, want)
    assert loaded.neighbours == 5


def test_neighbours_must_be_positive() -> None:
    with pytest.raises(ValueError, match="neighbours"):
        UserNeighbours.fit(block_interactions(), neighbours=0)


def test_scores_match_a_dense_computation_ties_included() -> None:
    # Random viewers with many equal similarities, so which neighbours make the cut decides the answer.
    rng = np.random.default_rng(3)
    sets = [tuple(rng.choice(30, size=rng.integers(2, 8), replace=False).tolist()) for _ in range(80)]
    neighbours = UserNeighbours.fit(_viewers(sets), neighbours=7)
    watched = np.zeros((80, 30))
    for u, titles in enumerate(sets):
        watched[u, list(titles)] = 1.0
    history = np.array([0, 1, 2, 3])
    overlap = watched[:, history].sum(axis=1)
    sizes = watched.sum(axis=1)
    similarity = np.where(sizes > overlap, overlap / np.sqrt(4 * sizes), 0.0)
    nearest = np.argsort(-similarity, kind="stable")[:7]  # ties: the lower row first
    weights = np.zeros(80)
    weights[nearest] = similarity[nearest]
    expected = weights @ watched / weights.sum()
    candidates = np.arange(30)
    share, rank = neighbours.scores(history, candidates)
    np.testing.assert_allclose(share, expected, atol=1e-12)
    unseen = np.delete(expected, history)
    ranks = [(unseen[unseen > 0] > s).sum() for s in expected]
    np.testing.assert_allclose(rank, np.log1p(ranks))
