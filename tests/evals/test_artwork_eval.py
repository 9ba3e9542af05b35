"""The artwork evaluation: the bandit beats its baselines in simulation, and replay is unbiased."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from evals.artwork import (
    FixedArtwork,
    Simulator,
    UniformArtwork,
    log_uniform,
    register,
    replay,
    run_artwork_eval,
)
from ranker.artwork import VARIANTS
from ranker.bandits import SEGMENTS


def test_thompson_beats_uniform_and_the_best_fixed_variant() -> None:
    result = run_artwork_eval(impressions=20_000, seed=5)
    assert set(result) == {"impressions", "take_rate", "replay", "seconds"}
    rates, replayed = result["take_rate"], result["replay"]
    assert set(rates) == {"thompson", "uniform", "best_fixed"}
    assert set(replayed) == {"thompson", "uniform", "events_used"}
    assert rates["thompson"] > rates["best_fixed"] > rates["uniform"]
    assert 0.02 < rates["uniform"] < 0.08  # the simulator's stated range of base rates
    # A uniform logger agrees with a given policy on about a quarter of the events.
    assert abs(replayed["events_used"] - 20_000 / len(VARIANTS)) < 500
    assert replayed["thompson"] > replayed["uniform"]


def test_the_simulator_gives_each_segment_a_favourite() -> None:
    sim = Simulator.make(seed=1)
    assert sim.take.shape == (len(SEGMENTS), 300, len(VARIANTS))
    favourites = sim.take.argmax(axis=2)
    assert (favourites == np.arange(len(SEGMENTS))[:, None] % len(VARIANTS)).all()
    assert math.isclose(sim.segment_weights.sum(), 1) and math.isclose(sim.title_weights.sum(), 1)


@pytest.mark.parametrize("seed", [2, 3])
def test_replay_of_known_policies_recovers_their_true_rates(seed: int) -> None:
    """Under a uniform logger every kept event is an independent draw whose take has the target
    policy's true rate as its mean, so the replay estimate is a binomial proportion over the events
    used. We allow four standard errors: a correct estimator fails that about once in 16,000 runs."""
    sim = Simulator.make(seed=seed)
    logged = sim.stream(40_000, np.random.default_rng(seed))
    shown, rewards = log_uniform(sim, logged, np.random.default_rng(seed + 1))
    best = sim.best_variant()
    fixed_rate = float(
        np.einsum("s,st,t->", sim.segment_weights, sim.take[:, :, VARIANTS.index(best)], sim.title_weights)
    )
    for policy, truth in ((UniformArtwork(), sim.uniform_rate()), (FixedArtwork(best), fixed_rate)):
        estimate, used = replay(policy, logged, shown, rewards, np.random.default_rng(seed + 2))
        tolerance = 4 * math.sqrt(truth * (1 - truth) / used)
        assert abs(estimate - truth) < tolerance, (policy, estimate, truth, used)


def test_bad_impressions_count() -> None:
    with pytest.raises(ValueError, match="got 0"):
        run_artwork_eval(impressions=0)


def test_cli_prints_one_json_object() -> None:
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, so the command is invoked by its name
    register(app)
    result = CliRunner().invoke(app, ["eval-artwork", "--impressions", "2000", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["impressions"] == 2000 and set(figures["take_rate"]) == {
        "thompson",
        "uniform",
        "best_fixed",
    }
