"""The Mult-VAE on the known-answer block world: a viewer's own block scores above the other one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog import Interactions
from catalog.matrix import UserItemMatrix
from evals.baselines import MultVAE
from retrieval import VAEConfig, VAEModel
from tests.retrieval.blocks import ROMANCE, SPACE, block_interactions

# Small layers and enough passes for 40 viewers: the paper's sizes would need far more of them.
CONFIG = VAEConfig(hidden=32, latent=8, epochs=150, batch=20, learning_rate=1e-2, seed=3)


@pytest.fixture(scope="module")
def model() -> VAEModel:
    return VAEModel.fit(block_interactions(), CONFIG)


def _by_id(model: VAEModel, watched: tuple[int, ...]) -> dict[int, float]:
    return dict(zip(model.item_ids.tolist(), model.scores(np.array(watched)).tolist(), strict=True))


@pytest.mark.parametrize(
    ("watched", "own", "other"), [(SPACE[:2], SPACE, ROMANCE), (ROMANCE[3:], ROMANCE, SPACE)]
)
def test_the_viewers_block_scores_above_the_other_block(
    model: VAEModel, watched: tuple[int, ...], own: tuple[int, ...], other: tuple[int, ...]
) -> None:
    scores = _by_id(model, watched)
    assert min(scores[t] for t in own if t not in watched) > max(scores[t] for t in other)


def test_scores_are_kept_per_history_read_only_and_equal_to_the_batch_logits(model: VAEModel) -> None:
    first = model.scores(np.array([SPACE[0], SPACE[1]]))
    again = model.scores(np.array([SPACE[1], SPACE[0], SPACE[1]]))  # the same titles, reordered
    assert again is first and not first.flags.writeable
    matrix = UserItemMatrix.build(block_interactions())
    batch = model.logits(matrix.csr[:3])
    for row in range(3):
        watched = matrix.item_ids[matrix.csr[row].indices]
        assert np.allclose(batch[row], model.scores(watched), atol=1e-5)


def test_a_fit_is_reproducible_and_saves_and_loads_exactly(model: VAEModel, tmp_path: Path) -> None:
    again = VAEModel.fit(block_interactions(), CONFIG)
    for name, weights in model.weights.items():
        assert np.array_equal(weights, again.weights[name]), name
    model.save(tmp_path / "vae.npz")
    loaded = VAEModel.load(tmp_path / "vae.npz")
    assert loaded.config == model.config
    assert np.array_equal(loaded.item_ids, model.item_ids)
    assert np.array_equal(loaded.scores(np.array(SPACE[:2])), model.scores(np.array(SPACE[:2])))


def test_weights_that_do_not_match_the_titles_are_refused(model: VAEModel) -> None:
    with pytest.raises(ValueError, match="do not match"):
        VAEModel(model.weights, model.item_ids[:-1], model.config)


def test_the_baseline_recommends_the_rest_of_the_viewers_block() -> None:
    baseline = MultVAE(CONFIG).fit(block_interactions())
    picks = baseline.recommend([0, 25], k=1)
    assert int(picks[0][0]) in SPACE and int(picks[25][0]) in ROMANCE


def test_titles_with_too_few_viewers_get_no_column_and_a_catalog_without_any_scores_nothing() -> None:
    inter = block_interactions()
    lone = Interactions.from_arrays(
        np.append(inter.users, 0),
        np.append(inter.items, 999),
        np.append(inter.ratings, 5.0),
        np.append(inter.timestamps, 10**6),
    )
    model = VAEModel.fit(lone, CONFIG.model_copy(update={"min_users": 2}))
    assert 999 not in model.item_ids and set(SPACE) <= set(model.item_ids.tolist())
    assert np.isfinite(model.scores(np.array([999]))).all()  # no known title: the empty profile's scores
    empty = VAEModel.fit(lone, CONFIG.model_copy(update={"min_users": 1000}))
    assert len(empty.item_ids) == 0 and empty.scores(np.array(SPACE)).shape == (0,)
