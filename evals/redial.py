"""`marquee eval-redial`: the assistant against real human recommenders (ReDial, Li et al. 2018).

For each recommender message that names a catalog movie not named earlier in its dialogue, the
assistant reads every message before it (the seeker's as user turns, the recommender's as assistant
turns, movies written by name) and ranks the catalog; a hit at k is that movie in its top k. Titles
named earlier are left out of every system's list. Peers in the same run: catalog popularity, the
engine with no dialogue, the named titles' item-item neighbours, and ReDial-train's most suggested.

Validation dialogues are a seeded fold of the train file; the co-mention model is learned from the
rest. `--tune` chooses the blend weights on a fold of the train dialogues, never on validation.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from scipy.stats import binomtest

from assistant.comentions import CoMentions
from assistant.dialogue_ranking import COMPONENTS, BlendWeights, DialogueRanker, Turn, cold_context
from assistant.service import Assistant
from assistant.state import ConversationStore
from assistant.tools import Viewer
from catalog.redial import SPLITS, Dialogue, ReDial, carve, load_redial
from engine import Bars, Engine, Reporter, Settings, Silent, assemble, checked_dataset, clean_errors, fail
from engine import settings_from_env as settings

CUTOFFS = (1, 10, 50)
DEPTH = max(CUTOFFS)
BOOTSTRAP = 1000
TUNE_FRACTION = 0.2  # of the train dialogues, held out of the co-mentions while tuning
GRID = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0)
VIEWER = "redial-seeker"


@dataclass(frozen=True)
class Point:
    """One recommender suggestion: the dialogue before it and the catalog movie suggested."""

    dialogue: str
    turns: tuple[Turn, ...]
    target: int
    mentioned: frozenset[int]  # catalog ids named earlier in the dialogue


def points_of(dialogues: Iterable[Dialogue], to_catalog: Mapping[int, int]) -> list[Point]:
    out = []
    for dialogue in dialogues:
        turns: list[Turn] = []
        named: set[int] = set()
        for message in dialogue.messages:
            movies = [to_catalog[m] for m in message.movies() if m in to_catalog]
            if not message.seeker:
                before = frozenset(named)
                for movie in dict.fromkeys(movies):
                    if movie not in before:
                        out.append(Point(dialogue.id, tuple(turns), movie, before))
            named.update(movies)
            turns.append(("user" if message.seeker else "assistant", dialogue.rendered(message)))
    return out


@dataclass
class Scored:
    """Each point's ranked list (titles named earlier removed) for one system."""

    lists: list[list[int]]

    def hits(self, points: Sequence[Point], k: int) -> np.ndarray:
        return np.array([p.target in ranked[:k] for p, ranked in zip(points, self.lists, strict=True)])


def _clean(ranked: Iterable[int], point: Point) -> list[int]:
    return [t for t in ranked if t not in point.mentioned][:DEPTH]


def figures(points: Sequence[Point], scored: Scored, rng: np.random.Generator) -> dict[str, Any]:
    out: dict[str, Any] = {"points": len(points)}
    draws = rng.integers(0, len(points), size=(BOOTSTRAP, len(points))) if points else None
    for k in CUTOFFS:
        hits = scored.hits(points, k)
        out[f"recall@{k}"] = round(float(hits.mean()), 4) if len(hits) else 0.0
        if draws is not None:
            means = hits[draws].mean(axis=1)
            out[f"recall@{k}_ci95"] = [round(float(q), 4) for q in np.quantile(means, [0.025, 0.975])]
    return out


def mcnemar(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Exact McNemar test on paired hits: points only one system got, and the two-sided p-value."""
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    p = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return {"only_assistant": only_a, "only_peer": only_b, "p_value": float(p)}


class Systems:
    """The assistant and its peers over one engine; each ranks a point."""

    def __init__(self, assistant: Assistant, engine: Engine) -> None:
        self.assistant = assistant
        self.ranking: DialogueRanker = assistant.ranking
        self.viewer = Viewer(VIEWER, lambda: cold_context(VIEWER))
        self.context = cold_context(VIEWER)
        wide = DEPTH + 100
        self._engine_list = [r.title.id for r in engine.recommend(self.context, k=wide)]
        self._popular = self.ranking.top(
            self.ranking.blend(self._gold(frozenset()), _only("popularity")), wide
        )

    def _gold(self, mentioned: frozenset[int]):
        """Signals from the titles the dialogue really named (the peers' advantage: no parsing)."""
        return self.ranking.signals_for(dict.fromkeys(mentioned, 1.0), self.context, engine=False)

    def peers(self) -> dict[str, Callable[[Point], list[int]]]:
        def neighbours(p: Point) -> list[int]:
            return self.ranking.top(self.ranking.blend(self._gold(p.mentioned), _only("neighbours")), DEPTH)

        def suggested(p: Point) -> list[int]:
            wide = DEPTH + len(p.mentioned)
            return self.ranking.top(self.ranking.blend(self._gold(frozenset()), _only("suggested")), wide)

        return {
            "popularity": lambda p: self._popular,
            "engine_no_dialogue": lambda p: self._engine_list,
            "mentioned_neighbours": neighbours,
            "redial_most_suggested": suggested,
        }

    def assistant_list(self, point: Point) -> list[int]:
        return self.assistant.rank(self.viewer, list(point.turns), k=DEPTH)


def _only(component: str) -> BlendWeights:
    return BlendWeights(**{c: float(c == component) for c in COMPONENTS}, assistant_named=0.0)


def evaluate(
    assistant: Assistant,
    engine: Engine,
    points: Sequence[Point],
    *,
    seed: int,
    ablation: bool = True,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    reporter = reporter or Silent()
    systems = Systems(assistant, engine)
    scored: dict[str, Scored] = {}
    with reporter.stage("Assistant on ReDial points", total=len(points)) as advance:
        lists = []
        for p in points:
            lists.append(_clean(systems.assistant_list(p), p))
            advance(1)
        scored["assistant"] = Scored(lists)
    with reporter.stage("Peers"):
        for name, rank in systems.peers().items():
            scored[name] = Scored([_clean(rank(p), p) for p in points])
    rng = np.random.default_rng(seed)
    table = {name: figures(points, s, rng) for name, s in scored.items()}
    peers = [n for n in scored if n != "assistant"]
    best = max(peers, key=lambda n: table[n]["recall@10"])
    result: dict[str, Any] = {
        "systems": table,
        "best_peer": best,
        "mcnemar@10": mcnemar(scored["assistant"].hits(points, 10), scored[best].hits(points, 10)),
        "weights": vars(assistant.ranking.weights),
    }
    if ablation:
        with reporter.stage("Ablation"):
            result["ablation"] = ablate(assistant.ranking, points, systems.context)
    return result


def ablate(ranking: DialogueRanker, points: Sequence[Point], context) -> dict[str, float]:
    """Recall@10 of the blend without each component (signals read once per point)."""
    signals = [ranking.signals(list(p.turns), context) for p in points]
    out = {}
    for name in ("all", *COMPONENTS):
        weights = ranking.weights if name == "all" else ranking.weights.without(name)
        hits = [
            p.target in _clean(ranking.top(ranking.blend(s, weights), DEPTH + len(p.mentioned)), p)[:10]
            for p, s in zip(points, signals, strict=True)
        ]
        out["all" if name == "all" else f"without {name}"] = round(float(np.mean(hits)), 4) if hits else 0.0
    return out


def tune(ranking: DialogueRanker, points: Sequence[Point], context) -> tuple[BlendWeights, float]:
    """Coordinate search over the grid for each component's weight (co-mentions' weight fixed at 1),
    maximising Recall@10 on `points`; two passes."""
    signals = [ranking.signals(list(p.turns), context) for p in points]

    def recall(w: BlendWeights) -> float:
        return float(
            np.mean(
                [
                    p.target in _clean(ranking.top(ranking.blend(s, w), DEPTH + len(p.mentioned)), p)[:10]
                    for p, s in zip(points, signals, strict=True)
                ]
            )
        )

    best, score = ranking.weights, recall(ranking.weights)
    for _ in range(2):
        for name in COMPONENTS:
            if name == "comention":
                continue
            for value in GRID:
                trial = replace(best, **{name: value})
                r = recall(trial)
                if r > score:
                    best, score = trial, r
    return best, score


def run_redial_eval(
    settings: Settings,
    dataset_name: str,
    *,
    split: str = "valid",
    limit: int | None = None,
    tune_weights: bool = False,
    reporter: Reporter | None = None,
    redial: ReDial | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    reporter = reporter or Silent()
    started = time.perf_counter()
    redial = redial or load_redial(settings.data_dir)
    own = engine is None
    engine = engine or assemble(settings, dataset_name)
    try:
        known = set(engine.titles())
        to_catalog = {r: m for r, m in redial.to_catalog.items() if m in known}
        train = redial.split("train", seed=settings.seed)
        comentions = CoMentions.learn(train, to_catalog)
        tuned: dict[str, Any] | None = None
        with tempfile.TemporaryDirectory(prefix="marquee-redial-") as tmp:
            assistant = Assistant(engine, ConversationStore(Path(tmp) / "c.sqlite"), comentions=comentions)
            try:
                if tune_weights:
                    fit, held = carve(train, seed=settings.seed + 1, fraction=TUNE_FRACTION)
                    fold = DialogueRanker(engine, assistant.lexicon.titles, CoMentions.learn(fit, to_catalog))
                    with reporter.stage("Tuning on a train fold"):
                        tune_points = points_of(held, to_catalog)[: limit or None]
                        weights, score = tune(fold, tune_points, cold_context(VIEWER))
                    assistant.ranking.weights = weights
                    tuned = {"weights": vars(weights), "tune_recall@10": round(score, 4)}
                    tuned["tune_points"] = len(tune_points)
                points = points_of(redial.split(split, seed=settings.seed), to_catalog)
                points = points[:limit] if limit else points
                result = evaluate(assistant, engine, points, seed=settings.seed, reporter=reporter)
            finally:
                assistant.close()
    finally:
        if own:
            engine.close()
    return {
        "dataset": dataset_name,
        "split": split,
        "in_sample": split == "train",
        "dialogues": len(redial.split(split, seed=settings.seed)),
        **result,
        **({"tuned": tuned} if tuned else {}),
        "seconds": round(time.perf_counter() - started, 1),
    }


def register(app: typer.Typer) -> None:
    @app.command("eval-redial")
    @clean_errors
    def eval_redial_command(
        dataset: Annotated[str, typer.Option("--dataset", "-d")] = "ml-latest-small",
        split: Annotated[str, typer.Option(help="valid (held-out train dialogues) or train")] = "valid",
        limit: Annotated[int | None, typer.Option(min=1, help="evaluate the first N points")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
        tune_weights: Annotated[
            bool, typer.Option("--tune", help="tune the blend weights on a train fold first")
        ] = False,
    ) -> None:
        """Recall@k of the assistant against real human recommenders (ReDial), with peers."""
        if split not in SPLITS:
            raise fail(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
        s = settings()
        name = checked_dataset(dataset)
        with Bars() as bars:
            result = run_redial_eval(
                s, name, split=split, limit=limit, tune_weights=tune_weights, reporter=bars
            )
        print(json.dumps(result) if as_json else table(result))


def table(result: dict[str, Any]) -> str:
    lines = [
        f"ReDial {result['split']} ({result['dialogues']} dialogues"
        + (", IN-SAMPLE: co-mentions learned from these" if result["in_sample"] else "")
        + f") over {result['dataset']}, {result['seconds']} s",
        f"{'system':<24}{'points':>8}" + "".join(f"{'R@' + str(k):>9}" for k in CUTOFFS) + "   R@10 95% CI",
    ]
    for name, f in result["systems"].items():
        ci = f.get("recall@10_ci95", [0, 0])
        lines.append(
            f"{name:<24}{f['points']:>8}"
            + "".join(f"{f[f'recall@{k}']:>9.3f}" for k in CUTOFFS)
            + f"   {ci[0]:.3f}-{ci[1]:.3f}"
        )
    m = result["mcnemar@10"]
    lines.append(
        f"assistant vs {result['best_peer']} (hits@10, McNemar): {m['only_assistant']} vs "
        f"{m['only_peer']} points only one got, p = {m['p_value']:.2g}"
    )
    if "ablation" in result:
        lines.append(
            "ablation (Recall@10): " + ", ".join(f"{k} {v:.3f}" for k, v in result["ablation"].items())
        )
    if "tuned" in result:
        lines.append(f"tuned on a train fold: {json.dumps(result['tuned'])}")
    return "\n".join(lines)
