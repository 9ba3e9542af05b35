"""EASE on the known-answer block world: the held-out title of the viewer's own block comes first."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from catalog import Constraints, Context, History
from catalog.business import Business
from evals.baselines import EASE
from retrieval import EASEConfig, EASEModel, EASESource
from retrieval.ease import RECENT_SCORES
from tests.retrieval.blocks import ROMANCE, SPACE, block_interactions, block_titles


@pytest.fixture(scope="module")
def model() -> EASEModel:
    # Each viewer watches 4 of their block's 5 titles, so with almost no ridge (l2=1) EASE learns that
    # one watched title makes another less likely; l2=10 is the smallest round value that does not.
    return EASEModel.fit(block_interactions(), EASEConfig(l2=10.0, min_users=1))


def _context(watched: list[int], **constraints: object) -> Context:
    history = History(
        items=np.array(watched, np.int64),
        weights=np.full(len(watched), 5.0, np.float32),
        timestamps=np.arange(len(watched), dtype=np.int64),
    )
    return Context(profile_id="p", history=history, now=1e6, constraints=Constraints(**constraints))


def _business(regions: tuple[str, ...]) -> Business:
    return Business(original=False, licence_expires=2e9, regions=regions, maturity="PG")


def test_scores_favour_the_viewers_block_and_b_has_a_zero_diagonal(model: EASEModel) -> None:
    assert np.allclose(np.diag(model.B), 0.0)
    scores = model.scores(np.array([SPACE[0], SPACE[1]]))
    by_id = dict(zip(model.item_ids.tolist(), scores.tolist(), strict=True))
    assert min(by_id[t] for t in SPACE[2:]) > max(by_id[t] for t in ROMANCE)
    assert not model.scores(np.array([999])).any()  # unknown titles carry no evidence


def test_scores_are_kept_per_history_read_only_and_equal_to_a_fresh_sum(model: EASEModel) -> None:
    first = model.scores(np.array([SPACE[0], SPACE[1]]))
    again = model.scores(np.array([SPACE[1], SPACE[0], SPACE[1]]))  # the same titles seen, reordered
    assert again is first and not first.flags.writeable
    pos, _ = model.positions(np.array([SPACE[0], SPACE[1]]))
    np.testing.assert_allclose(first, model.B[pos].sum(axis=0))
    other = model.scores(np.array([ROMANCE[0]]))
    assert other is not first and not np.allclose(other, first)
    histories = list(itertools.combinations(model.item_ids.tolist(), 3))[:RECENT_SCORES]
    assert len(histories) == RECENT_SCORES
    for seen in histories:  # as many other histories as are kept: the oldest goes, and is summed again
        model.scores(np.array(seen))
    recomputed = model.scores(np.array([SPACE[0], SPACE[1]]))
    assert recomputed is not first
    np.testing.assert_array_equal(recomputed, first)


def test_b_matches_the_evaluation_baseline(model: EASEModel) -> None:
    baseline = EASE(l2=10.0, min_item_count=1).fit(block_interactions())
    assert baseline.B is not None and baseline.matrix is not None
    np.testing.assert_allclose(model.B, baseline.B, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.item_ids, baseline.matrix.item_ids)


def test_source_ranks_the_block_first_and_honours_the_filter(model: EASEModel) -> None:
    titles = block_titles()
    everywhere = {t: _business(("US", "FR")) for t in titles}
    source = EASESource(model, titles, everywhere)
    found = source.candidates(context=_context([SPACE[0], SPACE[1]]), k=10)
    ids = [c.title_id for c in found]
    assert set(ids[:3]) == set(SPACE[2:]) and not {SPACE[0], SPACE[1]} & set(ids)
    assert [c.rank for c in found] == list(range(len(found))) and {c.source for c in found} == {"ease"}
    # A genre constraint keeps only romance titles, however weak their score.
    romance = source.candidates(context=_context([SPACE[0]], genres=("Romance",)), k=10)
    assert {c.title_id for c in romance} == set(ROMANCE)
    # A region no title is licensed in leaves nothing; without business facts a region check fails safe.
    regional = _context([SPACE[0]])
    regional = Context(profile_id="p", history=regional.history, now=1e6, region="JP")
    assert source.candidates(context=regional, k=10) == []
    assert EASESource(model, titles, {}).candidates(context=regional, k=10) == []
    assert source.candidates(context=_context([]), k=10) == []


def test_save_load_round_trip_without_pickle(model: EASEModel, tmp_path: Path) -> None:
    model.save(tmp_path / "ease.npz")
    loaded = EASEModel.load(tmp_path / "ease.npz")
    np.testing.assert_array_equal(loaded.B, model.B)
    np.testing.assert_array_equal(loaded.item_ids, model.item_ids)
    assert loaded.config == model.config


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="l2 must be > 0"):
        EASEConfig(l2=0.0)
    with pytest.raises(ValueError, match="min_users"):
        EASEConfig(min_users=0)
    with pytest.raises(ValueError, match="max_items"):
        EASEConfig(max_items=0)


def test_past_max_items_only_the_most_watched_titles_get_a_row() -> None:
    """B is dense (items²): a catalog past the cap keeps its most-watched titles instead of running out of
    memory, and the kept titles' weights are EASE's over them."""
    interactions = block_interactions()
    titles, watchers = np.unique(interactions.items, return_counts=True)  # one row per (viewer, title)
    cap = 4
    capped = EASEModel.fit(interactions, EASEConfig(l2=10.0, min_users=1, max_items=cap))
    kept = np.isin(titles, capped.item_ids)
    assert kept.sum() == cap and list(capped.item_ids) == sorted(capped.item_ids)
    assert watchers[kept].min() >= watchers[~kept].max()
    _, known = capped.positions(titles)
    assert known.sum() == cap
