"""`marquee eval-shilling`: inject fake profiles pushing one unpopular title, and measure how far they lift
it in Trending and in ordinary users' Top Picks, with and without the shilling defence.

The attack is the classic "average attack" made in a burst: `rate` x users new accounts join within half
a day at the end of the data, each rating the target 5 and `fillers` titles drawn from the most popular
ones at about their average rating (so each fake looks like an ordinary fan of hits). Top Picks are the
ALS stage of the pipeline (the factors trained on the attacked data, each ordinary user's top 10 unseen
titles); Trending is the served trending score (time-decayed counts) of all titles.

Exposure counts impressions of the target to ordinary users: one per user whose Top Picks hold it, plus
one per user when it is in the Trending row. Paired tests over ordinary users say whether the defence
changes who gets the target in Top Picks (exact McNemar) and where it places there (Wilcoxon signed-rank).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import binomtest, wilcoxon

from catalog import Dataset, Interactions, load_dataset
from catalog.shilling import ShillingReport, defend, detect
from engine import Settings
from retrieval import ALSModel, trending

ROW = 10  # titles in a row: Top Picks and Trending
DAY = 86_400


@dataclass(frozen=True)
class Condition:
    trending_rank: int
    picks: np.ndarray  # bool per ordinary user: the target is in their Top Picks
    places: np.ndarray  # per ordinary user: the target's place among their unseen titles (1 = first)

    @property
    def pick_rank(self) -> float:
        return float(np.median(self.places)) if len(self.places) else float("nan")

    def exposure(self, users: int) -> int:
        return int(self.picks.sum()) + (users if self.trending_rank <= ROW else 0)


def pick_target(dataset: Dataset, seed: int) -> int:
    """An unpopular title (3 to 10 ratings, average below 3.5): the kind an attacker pushes."""
    inter = dataset.interactions
    ids, counts = np.unique(inter.items, return_counts=True)
    sums = np.bincount(np.searchsorted(ids, inter.items), weights=inter.ratings, minlength=len(ids))
    mean = sums / counts
    pool = ids[(counts >= 3) & (counts <= 10) & (mean < 3.5)]
    return int(np.random.default_rng(seed).choice(pool))


def attack(inter: Interactions, target: int, rate: float, *, fillers: int, seed: int) -> Interactions:
    """`inter` with round(rate x users) fake accounts appended (ids above every real one)."""
    rng = np.random.default_rng(seed)
    n = round(rate * len(inter.user_ids()))
    ids, counts = np.unique(inter.items, return_counts=True)
    popular = ids[np.argsort(-counts, kind="stable")[:300]]
    sums = np.bincount(np.searchsorted(ids, inter.items), weights=inter.ratings, minlength=len(ids))
    mean = dict(zip(ids.tolist(), (sums / counts).tolist(), strict=True))
    now, first_id = int(inter.timestamps.max()), int(inter.users.max()) + 1
    users, items, ratings, stamps = [], [], [], []
    for f in range(n):
        joined = now - int(rng.integers(0, DAY // 2))
        chosen = rng.choice(popular[popular != target], size=fillers, replace=False)
        noisy = np.array([mean[int(t)] for t in chosen]) + rng.normal(0, 1.0, fillers)
        stars = np.clip(np.round(noisy * 2) / 2, 0.5, 5.0)
        for title, rating in [(target, 5.0), *zip(chosen.tolist(), stars.tolist(), strict=True)]:
            users.append(first_id + f)
            items.append(title)
            ratings.append(rating)
            stamps.append(joined + int(rng.integers(0, 600)))
    fake = Interactions.from_arrays(np.array(users), np.array(items), np.array(ratings), np.array(stamps))
    return Interactions(
        np.concatenate([inter.users, fake.users]),
        np.concatenate([inter.items, fake.items]),
        np.concatenate([inter.ratings, fake.ratings]),
        np.concatenate([inter.timestamps, fake.timestamps]),
    )


def measure(
    settings: Settings, train: Interactions, ordinary: Interactions, target: int, now: float
) -> Condition:
    trend = trending(train, half_life_days=settings.retrieval.trending_half_life_days, now=now)
    above = sum(1 for score in trend.values() if score > trend.get(target, 0.0))
    model = ALSModel.fit(train, settings.als)
    matrix = model.matrix(ordinary)
    scores = model.user_vectors(matrix) @ model.item_factors.T
    scores[matrix.csr.nonzero()] = -np.inf  # seen titles are not picks
    column = np.flatnonzero(model.item_ids == target)
    if not len(column):
        return Condition(above + 1, np.zeros(len(matrix.user_ids), bool), np.zeros(0))
    mine = scores[:, column[0]]
    place = (scores > mine[:, None]).sum(axis=1) + 1
    return Condition(above + 1, place <= ROW, place)


def run_shilling(
    settings: Settings,
    dataset_name: str,
    *,
    rates: tuple[float, ...] = (0.01, 0.03, 0.05),
    target: int | None = None,
    fillers: int = 20,
    seed: int = 42,
) -> dict[str, Any]:
    started = time.perf_counter()
    dataset = load_dataset(dataset_name, settings.data_dir)
    inter = dataset.interactions
    target = pick_target(dataset, seed) if target is None else target
    now = float(inter.timestamps.max())
    users = len(inter.user_ids())
    real = set(inter.user_ids().tolist())
    base = measure(settings, inter, inter, target, now)
    clean_flags = detect(inter)
    rows = []
    for rate in rates:
        attacked = attack(inter, target, rate, fillers=fillers, seed=seed)
        report = detect(attacked)
        undefended = measure(settings, attacked, inter, target, now)
        defended = measure(settings, defend(attacked, report), inter, target, now)
        rows.append(
            _row(rate, attacked, real, report, base, undefended, defended, users)
            | {"fakes": len(attacked.user_ids()) - users}
        )
    return {
        "dataset": dataset_name,
        "target": {"id": target, "name": dataset.titles[target].name},
        "ordinary_users": users,
        "no_attack": {
            "trending_rank": base.trending_rank,
            "top_picks_users": int(base.picks.sum()),
            "top_picks_median_rank": base.pick_rank,
            "exposure": base.exposure(users),
            "flagged_ordinary": len(clean_flags.flags),
        },
        "attacks": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _row(
    rate: float,
    attacked: Interactions,
    real: set[int],
    report: ShillingReport,
    base: Condition,
    undefended: Condition,
    defended: Condition,
    users: int,
) -> dict[str, Any]:
    flagged = set(report.flags)
    fakes = set(attacked.user_ids().tolist()) - real
    # McNemar: users whose Top Picks hold the target without the defence but not with it, and back.
    lost = int((undefended.picks & ~defended.picks).sum())
    gained = int((~undefended.picks & defended.picks).sum())
    p = binomtest(lost, lost + gained).pvalue if lost + gained else 1.0
    # Wilcoxon signed-rank over users: does the defence move the target's place in their Top Picks?
    moved = len(undefended.places) == len(defended.places) and (undefended.places != defended.places).any()
    place_p = float(wilcoxon(undefended.places, defended.places).pvalue) if moved else 1.0
    return {
        "rate": rate,
        "caught_fakes": len(flagged & fakes),
        "false_positive_rate": len(flagged & real) / users,
        "without_defence": _figures(undefended, base, users),
        "with_defence": _figures(defended, base, users),
        "mcnemar_p": p,
        "place_wilcoxon_p": place_p,
    }


def _figures(c: Condition, base: Condition, users: int) -> dict[str, Any]:
    exposure = c.exposure(users)
    return {
        "trending_rank": c.trending_rank,
        "trending_lift": base.trending_rank - c.trending_rank,  # places climbed
        "top_picks_users": int(c.picks.sum()),
        "top_picks_median_rank": c.pick_rank,
        "exposure": exposure,
        "exposure_ratio": exposure / base.exposure(users) if base.exposure(users) else None,
    }


def table(result: dict[str, Any]) -> str:
    base = result["no_attack"]
    lines = [
        f"{result['dataset']}: target {result['target']['id']} {result['target']['name']!r}, "
        f"{result['ordinary_users']} ordinary users, {result['seconds']} s",
        f"no attack: trending rank {base['trending_rank']}, in {base['top_picks_users']} users' Top Picks "
        f"(median place {base['top_picks_median_rank']:.0f}), "
        f"exposure {base['exposure']}; ordinary accounts flagged: {base['flagged_ordinary']}",
        f"{'attack':>7} {'fakes':>6} {'caught':>7} {'FP rate':>8} | {'defence':>8} {'trend rank':>11} "
        f"{'lift':>6} {'top picks':>10} {'pick place':>11} {'exposure':>9} {'x no attack':>12}",
    ]
    for row in result["attacks"]:
        for name in ("without_defence", "with_defence"):
            f = row[name]
            ratio = "inf" if f["exposure_ratio"] is None else f"{f['exposure_ratio']:.2f}"
            if f["exposure_ratio"] is None and f["exposure"] == 0:
                ratio = "same (0)"
            lines.append(
                f"{row['rate']:>7.0%} {row['fakes']:>6} {row['caught_fakes']:>7} "
                f"{row['false_positive_rate']:>8.2%} | {name.split('_')[0]:>8} {f['trending_rank']:>11} "
                f"{f['trending_lift']:>6} {f['top_picks_users']:>10} {f['top_picks_median_rank']:>11.0f} "
                f"{f['exposure']:>9} {ratio:>12}"
            )
        lines.append(
            f"{'':>7} without vs with defence: McNemar p (in Top Picks) {row['mcnemar_p']:.2g}, "
            f"Wilcoxon p (place in Top Picks) {row['place_wilcoxon_p']:.2g}"
        )
    return "\n".join(lines)
