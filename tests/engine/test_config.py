"""One config: Settings nests each component's own config model, so there is one set of defaults, and the
MARQUEE_* variables reach the components under the names they always had."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from engine import Settings
from ranker import BlendWeights, LTRConfig
from ranker.rows import RowsConfig
from retrieval import ALSConfig, EASEConfig


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> pytest.MonkeyPatch:
    """An environment with no MARQUEE_ variable and no .env file, for the test to fill in."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MARQUEE_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_served_defaults_are_the_components_own(env: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert s.als == ALSConfig() and s.retrieval.ease == EASEConfig() and s.ranker.ltr == LTRConfig()
    assert s.rows == RowsConfig()
    assert (
        BlendWeights.model_validate(s.ranker.model_dump(include=set(BlendWeights.model_fields)))
        == BlendWeights()
    )
    # What `marquee build` fits: the values validation folds of ml-latest-small chose (README, "Tuning").
    assert s.als.model_dump() == {
        "factors": 64,
        "regularization": 10.0,
        "alpha": 0.25,
        "iterations": 15,
        "weighting": "rating",
        "half_life_days": 365.0,
        "seed": 42,
    }


def test_the_variables_keep_their_names_and_reach_the_components(env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MARQUEE_ALS__FACTORS": "8",
        "MARQUEE_RETRIEVAL__EASE_L2": "123",
        "MARQUEE_RANKER__NOVELTY": "0.2",
        "MARQUEE_RANKER__DIVERSITY": "0.5",
        "MARQUEE_RANKER__CANDIDATES_PER_SOURCE": "50",
        "MARQUEE_RANKER__LTR__MAX_DEPTH": "4",
        "MARQUEE_ROWS__ROW_LENGTH": "9",
    }.items():
        env.setenv(name, value)
    s = Settings()
    assert s.als.factors == 8 and s.retrieval.ease.l2 == 123.0 and s.retrieval.ease.min_users == 2
    assert s.ranker.ltr.max_depth == 4 and s.rows.row_length == 9 and s.ranker.candidates_per_source == 50
    # The blend reads the ranker's settings as they are: stage 2 and the homepage rows get this object.
    assert isinstance(s.ranker, BlendWeights)
    assert (s.ranker.novelty, s.ranker.trade_off) == (0.2, 0.5)


def test_one_seed_unless_a_component_sets_its_own(env: pytest.MonkeyPatch) -> None:
    env.setenv("MARQUEE_SEED", "7")
    assert (Settings().als.seed, Settings().ranker.ltr.seed) == (7, 7)
    env.setenv("MARQUEE_ALS__SEED", "3")
    assert (Settings().als.seed, Settings().ranker.ltr.seed) == (3, 7)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MARQUEE_RETRIEVAL__EASE_L2", "0", "l2 must be > 0"),
        ("MARQUEE_RANKER__NOVELTY", "-1", "novelty must be >= 0"),
        ("MARQUEE_RANKER__DIVERSITY", "1.5", r"diversity must be in \[0, 1\]"),
        ("MARQUEE_ALS__WEIGHTING", "squared", "'binary' or 'rating'"),
        ("MARQUEE_RANKER__LTR__OBJECTIVE", "rank:map", "rank:ndcg, rank:pairwise"),
    ],
)
def test_a_bad_value_is_refused_with_the_valid_ones(
    env: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()
