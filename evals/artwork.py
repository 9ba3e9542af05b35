"""Offline evaluation of the artwork bandit, in a simulator whose take rates we know.

Two measurements:
- Simulation: the Thompson bandit, a uniformly random variant and the best single variant (an oracle:
  the one variant with the highest true take rate over the whole stream) each serve the same stream
  of impressions; we report the fraction taken.
- Replay (Li, Chu, Langford and Wang, 2011): impressions are logged under a uniformly random policy,
  then a policy is run over the log, keeping only the events where it picks the logged variant. With a
  uniform logger this estimate is unbiased; the policy learns from about 1/len(VARIANTS) of the log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import typer

from engine import Advance, Bars, Reporter, Silent, clean_errors
from ranker.artwork import VARIANTS
from ranker.bandits import SEGMENTS, ArtworkBandit, ArtworkPolicy

TITLES = 300
_TICK = 1_000  # impressions per progress-bar step


@dataclass(frozen=True, eq=False)
class Simulator:
    """Hidden take probabilities per (segment, title, variant), and how often each segment and title shows."""

    take: np.ndarray  # (segments, titles, variants)
    segment_weights: np.ndarray  # (segments,), sums to 1
    title_weights: np.ndarray  # (titles,), sums to 1

    @classmethod
    def make(cls, *, seed: int, titles: int = TITLES) -> Simulator:
        """Base take rates of 2-5 %, 6-8 % for each segment's favourite variant (segment i prefers
        variant i mod 4), scaled by a per-title appeal that never changes which variant is best."""
        rng = np.random.default_rng(seed)
        base = rng.uniform(0.02, 0.05, size=(len(SEGMENTS), len(VARIANTS)))
        for s in range(len(SEGMENTS)):
            base[s, s % len(VARIANTS)] = rng.uniform(0.06, 0.08)
        appeal = rng.lognormal(0.0, 0.25, size=titles)
        take = np.clip(base[:, None, :] * (appeal / appeal.mean())[None, :, None], 0.0, 1.0)
        popularity = rng.permutation(1.0 / np.arange(1, titles + 1) ** 0.8)  # a long tail of titles
        segments = rng.dirichlet(np.full(len(SEGMENTS), 5.0))
        return cls(take, segments, popularity / popularity.sum())

    def stream(self, n: int, rng: np.random.Generator) -> Stream:
        segments = rng.choice(len(self.segment_weights), size=n, p=self.segment_weights)
        titles = rng.choice(len(self.title_weights), size=n, p=self.title_weights)
        return Stream(segments, titles, rng.random(n))

    def uniform_rate(self) -> float:
        """The true expected take rate of showing a uniformly random variant."""
        return float(self.segment_weights @ self.take.mean(axis=2) @ self.title_weights)

    def best_variant(self) -> str:
        """The single variant with the highest true expected take rate across all segments."""
        rates = np.einsum("s,stv,t->v", self.segment_weights, self.take, self.title_weights)
        return VARIANTS[int(np.argmax(rates))]


@dataclass(frozen=True, eq=False)
class Stream:
    """Impressions to serve: who (segment), what (title), and a uniform draw that every policy shares,
    so a take happens when `u < take[segment, title, shown variant]` (common random numbers)."""

    segments: np.ndarray
    titles: np.ndarray
    u: np.ndarray

    def __len__(self) -> int:
        return len(self.u)

    def __iter__(self) -> Iterator[tuple[int, int, float]]:
        return zip(self.segments.tolist(), self.titles.tolist(), self.u.tolist(), strict=True)


class UniformArtwork:
    """Shows a uniformly random variant: the control arm, and the logging policy for replay."""

    def choose(
        self, *, title_id: int, segment: str, variants: Sequence[str], rng: np.random.Generator
    ) -> str:
        return variants[int(rng.integers(len(variants)))]

    def update(self, *, title_id: int, segment: str, variant: str, reward: bool) -> None:
        pass


@dataclass(frozen=True)
class FixedArtwork:
    """Always shows the same variant."""

    variant: str

    def choose(
        self, *, title_id: int, segment: str, variants: Sequence[str], rng: np.random.Generator
    ) -> str:
        return self.variant

    def update(self, *, title_id: int, segment: str, variant: str, reward: bool) -> None:
        pass


def simulate(
    policy: ArtworkPolicy,
    sim: Simulator,
    stream: Stream,
    rng: np.random.Generator,
    advance: Advance | None = None,
) -> float:
    """Serve the stream with `policy`, feeding back every outcome; the fraction of impressions taken."""
    taken = 0
    for i, (s, t, u) in enumerate(stream):
        variant = policy.choose(title_id=t, segment=SEGMENTS[s], variants=VARIANTS, rng=rng)
        reward = bool(u < sim.take[s, t, VARIANTS.index(variant)])
        policy.update(title_id=t, segment=SEGMENTS[s], variant=variant, reward=reward)
        taken += reward
        if advance and (i + 1) % _TICK == 0:
            advance(_TICK)
    return taken / len(stream)


def replay(
    policy: ArtworkPolicy, logged: Stream, shown: np.ndarray, rewards: np.ndarray, rng: np.random.Generator
) -> tuple[float, int]:
    """Li et al.'s replay estimate of `policy`'s take rate from a uniformly logged stream, and the
    number of events it used (those where the policy picked the logged variant)."""
    taken = used = 0
    for (s, t, _u), v, reward in zip(logged, shown.tolist(), rewards.tolist(), strict=True):
        if policy.choose(title_id=t, segment=SEGMENTS[s], variants=VARIANTS, rng=rng) != VARIANTS[v]:
            continue  # the log cannot say what would have happened
        policy.update(title_id=t, segment=SEGMENTS[s], variant=VARIANTS[v], reward=reward)
        taken += reward
        used += 1
    return (taken / used if used else 0.0), used


def log_uniform(sim: Simulator, stream: Stream, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Variants a uniformly random logger showed on the stream (as indices), and whether each was taken."""
    shown = rng.integers(len(VARIANTS), size=len(stream))
    return shown, stream.u < sim.take[stream.segments, stream.titles, shown]


def run_artwork_eval(*, impressions: int = 50_000, seed: int = 42, reporter: Reporter | None = None) -> dict:
    """Simulated take rates of Thompson sampling, uniform and the best fixed variant, and replay estimates.

    `replay.events_used` counts the logged events the Thompson replay kept (about a quarter of them).
    """
    if impressions < 1:
        raise ValueError(f"impressions must be a positive count, got {impressions}")
    started = time.perf_counter()
    reporter = reporter or Silent()
    sim = Simulator.make(seed=seed)
    stream = sim.stream(impressions, np.random.default_rng(seed + 1))
    take_rate: dict[str, float] = {}
    with ArtworkBandit.open() as bandit:
        policies: dict[str, ArtworkPolicy] = {
            "thompson": bandit,
            "uniform": UniformArtwork(),
            "best_fixed": FixedArtwork(sim.best_variant()),
        }
        for name, policy in policies.items():
            with reporter.stage(f"Simulating {name}", total=impressions // _TICK) as advance:
                take_rate[name] = simulate(policy, sim, stream, np.random.default_rng(seed + 2), advance)
    logged = sim.stream(impressions, np.random.default_rng(seed + 3))
    shown, rewards = log_uniform(sim, logged, np.random.default_rng(seed + 4))
    with reporter.stage("Replaying the uniform log"), ArtworkBandit.open() as fresh:
        thompson, used = replay(fresh, logged, shown, rewards, np.random.default_rng(seed + 5))
        uniform, _ = replay(UniformArtwork(), logged, shown, rewards, np.random.default_rng(seed + 6))
    return {
        "impressions": impressions,
        "take_rate": {name: round(rate, 5) for name, rate in take_rate.items()},
        "replay": {"thompson": round(thompson, 5), "uniform": round(uniform, 5), "events_used": used},
        "seconds": round(time.perf_counter() - started, 2),
    }


def register(app: typer.Typer) -> None:
    @app.command("eval-artwork")
    @clean_errors
    def eval_artwork_command(
        impressions: Annotated[int, typer.Option(min=100, help="simulated impressions per policy")] = 50_000,
        seed: Annotated[int, typer.Option(help="seeds the simulator and every policy")] = 42,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    ) -> None:
        """Simulate artwork impressions: Thompson bandit vs uniform vs best fixed variant, and a replay."""
        with Bars() as bars:
            result = run_artwork_eval(impressions=impressions, seed=seed, reporter=bars)
        print(json.dumps(result, indent=None if as_json else 2))
