"""Stage-2 rankers: the XGBoost learning-to-rank model and the source-order fallback behind one protocol."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import xgboost as xgb
from pydantic import BaseModel, ConfigDict, field_validator

from ranker.features import HISTORY_COLUMN

OBJECTIVES = ("rank:ndcg", "rank:pairwise")
FUSED_COLUMN = "rrf_score"  # FeatureBuilder's stage-1 fused score: the candidate order
# Half the learning rate of XGBoost's usual 0.1, more trees and more patience: with 20 rounds the
# ranker kept 5-40 trees, where a noisy early peak on the held-out users ended training. Five-fold
# cross-validation over the training users (NDCG@10, rank:ndcg): ml-latest-small 0.1321 -> 0.1358,
# ml-100k 0.1865 -> 0.1905.
EARLY_STOPPING_ROUNDS = 50
NDCG_K = 10
MODEL_FILE, META_FILE = "model.json", "ltr.json"
SHORT_DIR, SEGMENTS_FILE = "short", "segments.json"  # ProfileLengthRanker's second model and its cut

Split = tuple[np.ndarray, np.ndarray, np.ndarray]  # X, y (relevance labels), qid per row (rows sorted)


class LTRConfig(BaseModel):
    """How `marquee build` trains the ranker (MARQUEE_RANKER__LTR__*)."""

    model_config = ConfigDict(frozen=True)

    objective: str = "rank:ndcg"
    n_estimators: int = 500
    max_depth: int = 6
    learning_rate: float = 0.05
    min_child_weight: float = 1.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    seed: int = 42  # the engine's MARQUEE_SEED unless set here (engine/config.py)
    ndcg_exp_gain: bool = False  # linear gain: graded labels (e.g. ratings) need not be small integers

    @field_validator("objective")
    @classmethod
    def _known(cls, objective: str) -> str:
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown LTR objective {objective!r}; valid: {', '.join(OBJECTIVES)}")
        return objective


class Ranker(Protocol):
    """Stage 2: one relevance score per FeatureBuilder row, higher is better.

    A ranker says what it is, so that callers never judge it by its class: `kind` names it (in logs and
    health), and `is_fallback` is true for a stand-in served when no trained model is there.
    """

    @property
    def kind(self) -> str: ...

    @property
    def is_fallback(self) -> bool: ...

    def score(self, X: np.ndarray) -> np.ndarray: ...


class SourceOrderRanker:
    """Keeps stage 1's order (the fused RRF score): the degraded mode when no trained model is there."""

    kind = "source-order"
    is_fallback = True

    def __init__(self, *, names: Sequence[str]) -> None:
        if FUSED_COLUMN not in names:
            raise ValueError(f"feature names lack {FUSED_COLUMN!r}, the column SourceOrderRanker ranks by")
        self.names = tuple(names)
        self._column = self.names.index(FUSED_COLUMN)

    def score(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X[:, self._column], np.float64)


class LTRRanker:
    """XGBoost learning-to-rank over FeatureBuilder rows, grouped per profile: one model, or a bag of
    models merged into one that scores their mean (`bagged`)."""

    kind = "ltr"
    is_fallback = False

    def __init__(
        self, booster: xgb.Booster, *, names: Sequence[str], config: LTRConfig, metrics: dict[str, Any]
    ) -> None:
        self._booster = booster
        self.names = tuple(names)
        self.config = config
        self.metrics = metrics

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        *,
        names: Sequence[str],
        config: LTRConfig,
        eval_set: Split | None = None,
    ) -> LTRRanker:
        """Train on rows sorted by `groups` (one qid per profile); early stopping on `eval_set`'s NDCG@10."""
        _check_width(X, names)
        extra = {"ndcg_exp_gain": config.ndcg_exp_gain} if config.objective == "rank:ndcg" else {}
        model = xgb.XGBRanker(
            objective=config.objective,
            n_estimators=config.n_estimators,
            max_depth=config.max_depth,
            learning_rate=config.learning_rate,
            min_child_weight=config.min_child_weight,
            subsample=config.subsample,
            colsample_bytree=config.colsample_bytree,
            random_state=config.seed,
            tree_method="hist",
            n_jobs=2,
            eval_metric=f"ndcg@{NDCG_K}",
            early_stopping_rounds=EARLY_STOPPING_ROUNDS if eval_set is not None else None,
            **extra,
        )
        if eval_set is None:
            model.fit(X, y, qid=groups, verbose=False)
            booster = model.get_booster()
        else:
            Xv, yv, qv = eval_set
            _check_width(Xv, names)
            model.fit(X, y, qid=groups, eval_set=[(Xv, yv)], eval_qid=[qv], verbose=False)
            booster = model.get_booster()[: model.best_iteration + 1]  # keep only the trees that helped
        booster.feature_names = list(names)
        ranker = cls(booster, names=names, config=config, metrics={})
        ranker.metrics["trees"] = booster.num_boosted_rounds()
        if eval_set is not None:
            ranker.metrics[f"valid_ndcg@{NDCG_K}"] = ndcg_at_k(eval_set[1], ranker.score(Xv), eval_set[2])
        return ranker

    @classmethod
    def bagged(cls, members: Sequence[LTRRanker]) -> LTRRanker:
        """One ranker that scores the mean of `members`' scores.

        The members share a configuration and differ in the users that stopped their training (and
        so in those they learned from): their average ranked better than one of them alone. Five-fold
        cross-validation, NDCG@10 against EASE's order, one model vs three: ml-latest-small 1.119x vs
        1.174x and 1.045x vs 1.167x, ml-100k 1.259x vs 1.297x and 1.240x vs 1.263x (two shuffles).
        """
        first = members[0]
        if any(m.names != first.names or m.config != first.config for m in members):
            raise ValueError("bagged models must share their feature columns and configuration")
        booster = _averaged([member._booster for member in members])
        metrics = {**first.metrics, "members": [member.metrics for member in members]}
        metrics["trees"] = booster.num_boosted_rounds()
        return cls(booster, names=first.names, config=first.config, metrics=metrics)

    def score(self, X: np.ndarray) -> np.ndarray:
        _check_width(X, self.names)
        return np.asarray(self._booster.inplace_predict(np.asarray(X, np.float32)), np.float64)

    def importance(self) -> dict[str, float]:
        """Total gain per feature, in `names` order; features no tree split on get 0."""
        gain = self._booster.get_score(importance_type="total_gain")
        # total_gain values are floats; the stubs also allow lists (for other importance types).
        return {name: float(gain.get(name, 0.0)) for name in self.names}  # type: ignore[arg-type]

    def files(self) -> tuple[str, ...]:
        """What `save` writes, relative to its folder."""
        return (MODEL_FILE, META_FILE)

    def save(self, folder: Path) -> None:
        """model.json (XGBoost's own JSON) and ltr.json (names, config, metrics); never pickle."""
        folder.mkdir(parents=True, exist_ok=True)
        self._booster.save_model(folder / MODEL_FILE)
        meta = {"names": list(self.names), "config": self.config.model_dump(), "metrics": self.metrics}
        (folder / META_FILE).write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(
        cls, folder: Path, *, names: Sequence[str] | None = None, threads: int | None = None
    ) -> LTRRanker:
        """`names`, when given, must be the columns the model was trained on, in the same order.

        `threads` caps the threads one prediction uses (None: XGBoost's default, every core). Serving
        scores a few hundred rows per request, many requests at once: one thread each is faster there.
        """
        meta = json.loads((folder / META_FILE).read_text())
        stored = tuple(meta["names"])
        if names is not None and tuple(names) != stored:
            missing = sorted(set(stored) - set(names))
            extra = sorted(set(names) - set(stored))
            raise ValueError(
                f"the LTR model in {folder} was trained on other features (missing: {missing}, "
                f"unexpected: {extra}, or a different order); retrain it with `marquee build`"
            )
        booster = xgb.Booster()
        booster.load_model(folder / MODEL_FILE)
        if threads is not None:
            booster.set_param({"nthread": threads})
        return cls(booster, names=stored, config=LTRConfig(**meta["config"]), metrics=meta["metrics"])


class ProfileLengthRanker:
    """Two trained models, one per kind of profile: `short` scores profiles of fewer than `below` titles,
    `full` the rest, row by row from the profile-length feature.

    A new profile's three picks and a long history are different tasks: one model trained on both
    ranked long histories worse than one trained on them alone (ml-1m NDCG@10 0.433 vs 0.441), and
    one trained on long histories alone ranked new profiles below plain popularity.
    """

    kind = "ltr"
    is_fallback = False

    def __init__(self, *, full: LTRRanker, short: LTRRanker, below: int) -> None:
        if full.names != short.names:
            raise ValueError("both models must be trained on the same feature columns")
        if HISTORY_COLUMN not in full.names:
            raise ValueError(f"feature names lack {HISTORY_COLUMN!r}, the column the models are chosen by")
        self.full, self.short, self.below = full, short, below
        self.names = full.names
        self._column = self.names.index(HISTORY_COLUMN)
        self._cut = float(np.log1p(below))

    @property
    def config(self) -> LTRConfig:
        return self.full.config

    @property
    def metrics(self) -> dict[str, Any]:
        return {**self.full.metrics, "short_profiles": {"below": self.below, **self.short.metrics}}

    def score(self, X: np.ndarray) -> np.ndarray:
        _check_width(X, self.names)
        short = X[:, self._column] < self._cut
        # A request's rows are one profile's, so one model scores them all, with no copy of X.
        if short.all():
            return self.short.score(X)
        if not short.any():
            return self.full.score(X)
        out = np.empty(len(X), np.float64)
        out[short] = self.short.score(X[short])
        out[~short] = self.full.score(X[~short])
        return out

    def files(self) -> tuple[str, ...]:
        return (*self.full.files(), *(f"{SHORT_DIR}/{name}" for name in self.short.files()), SEGMENTS_FILE)

    def save(self, folder: Path) -> None:
        self.full.save(folder)
        self.short.save(folder / SHORT_DIR)
        (folder / SEGMENTS_FILE).write_text(json.dumps({"below": self.below}))

    @classmethod
    def load(
        cls, folder: Path, *, names: Sequence[str] | None = None, threads: int | None = None
    ) -> ProfileLengthRanker:
        below = int(json.loads((folder / SEGMENTS_FILE).read_text())["below"])
        return cls(
            full=LTRRanker.load(folder, names=names, threads=threads),
            short=LTRRanker.load(folder / SHORT_DIR, names=names, threads=threads),
            below=below,
        )


TrainedRanker = LTRRanker | ProfileLengthRanker


def load_ranker(folder: Path, *, names: Sequence[str], threads: int | None = None) -> Ranker:
    """The trained model(s) when the artifact is there; otherwise stage 1's order (the degraded mode)."""
    if not (folder / MODEL_FILE).is_file():
        return SourceOrderRanker(names=names)
    if (folder / SEGMENTS_FILE).is_file():
        return ProfileLengthRanker.load(folder, names=names, threads=threads)
    return LTRRanker.load(folder, names=names, threads=threads)


# Tree shapes tried after the objective is chosen (depth, smallest leaf): the build's default first.
SHAPES: tuple[dict[str, Any], ...] = (
    {},
    {"max_depth": 4, "min_child_weight": 10.0},
    {"max_depth": 8, "min_child_weight": 5.0},
)


def choose_ranker(
    train: Split,
    valid: Split,
    *,
    names: Sequence[str],
    base: LTRConfig,
    shapes: Sequence[dict[str, Any]] = SHAPES,
) -> tuple[LTRRanker, dict[str, Any]]:
    """Fit every objective with `base`, then the best one with each of `shapes` (overrides of `base`);
    keep the best on validation NDCG@10 (early stopping on the same users; ties keep the earlier fit)."""
    fitted = {
        obj: LTRRanker.fit(
            *train, names=names, config=base.model_copy(update={"objective": obj}), eval_set=valid
        )
        for obj in OBJECTIVES
    }
    key = f"valid_ndcg@{NDCG_K}"
    objective = max(OBJECTIVES, key=lambda obj: (fitted[obj].metrics[key], obj == base.objective))
    metrics: dict[str, Any] = {obj: dict(fitted[obj].metrics) for obj in OBJECTIVES}
    metrics["chosen"] = objective
    best = fitted[objective]
    tried = []
    for shape in shapes:
        if not shape:
            ranker = fitted[objective]
        else:
            config = base.model_copy(update={"objective": objective, **shape})
            ranker = LTRRanker.fit(*train, names=names, config=config, eval_set=valid)
        tried.append({**shape, **ranker.metrics})
        if ranker.metrics[key] > best.metrics[key]:
            best = ranker
    metrics["shapes"] = tried
    return best, metrics


def ndcg_at_k(y: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int = NDCG_K) -> float:
    """Mean NDCG@k over groups with at least one relevant row (linear gain; ties broken by row order)."""
    bounds = np.flatnonzero(np.diff(groups)) + 1
    values = []
    for labels, s in zip(np.split(np.asarray(y, np.float64), bounds), np.split(scores, bounds), strict=True):
        if not (labels > 0).any():
            continue  # nothing to find: NDCG is undefined, not 0 or 1
        discounts = 1.0 / np.log2(np.arange(2, k + 2))[: len(labels)]
        gained = labels[np.argsort(-s, kind="stable")][:k]
        ideal = np.sort(labels)[::-1][:k]
        values.append(float(gained @ discounts[: len(gained)] / (ideal @ discounts[: len(ideal)])))
    return float(np.mean(values)) if values else 0.0


def _averaged(boosters: Sequence[xgb.Booster]) -> xgb.Booster:
    """One model whose score is the mean of `boosters`' scores: their trees side by side, every leaf
    value divided by their number. One prediction call instead of one per model: on a 1,000-row
    request each call cost about as much as scoring its trees."""
    models = [json.loads(booster.save_raw("json")) for booster in boosters]
    trees: list[dict[str, Any]] = []
    for model in models:
        for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
            leaves = np.asarray(tree["left_children"]) == -1  # a leaf's value is its split_condition
            values = np.asarray(tree["split_conditions"], np.float64)
            values[leaves] /= len(models)
            tree["split_conditions"] = values.tolist()
            tree["base_weights"] = (np.asarray(tree["base_weights"], np.float64) / len(models)).tolist()
            tree["id"] = len(trees)
            trees.append(tree)
    merged = models[0]
    gbtree = merged["learner"]["gradient_booster"]["model"]
    gbtree.update(trees=trees, tree_info=[0] * len(trees), iteration_indptr=list(range(len(trees) + 1)))
    gbtree["gbtree_model_param"]["num_trees"] = str(len(trees))
    # Each model adds its base score to every prediction: the mean model adds their mean.
    bases = [float(m["learner"]["learner_model_param"]["base_score"].strip("[]")) for m in models]
    merged["learner"]["learner_model_param"]["base_score"] = f"[{float(np.mean(bases))!r}]"
    booster = xgb.Booster()
    booster.load_model(bytearray(json.dumps(merged).encode()))
    return booster


def _check_width(X: np.ndarray, names: Sequence[str]) -> None:
    if X.ndim != 2 or X.shape[1] != len(names):
        raise ValueError(f"feature matrix has shape {X.shape}; expected (rows, {len(names)}) for these names")
