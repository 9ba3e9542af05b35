"""Stage-2 features: one float32 row per (profile, candidate), in a fixed, named column order.

Four groups, after the Netflix ranker: user (history size, recency, rating habits), title (popularity
windows, ratings, age, metadata, genres), context (hour, weekday, device) and interaction (ALS score,
content and genre match, item-item similarity, EASE, what viewers of similar taste watched, and which
stage-1 sources proposed the title).
Profile-level quantities are computed once per call; candidate-level ones with one matrix multiply per
vector kind (ALS factors, content vectors, genre one-hots), so 1,000 candidates take a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from catalog import Context, Interactions, Title
from retrieval import (
    SOURCES,
    ALSModel,
    CandidateSet,
    EASEModel,
    ItemSimilarity,
    SourceRegistry,
    UserNeighbours,
    VAEModel,
    count_above,
    lookup,
)

DEVICES = {"tv": 1, "mobile": 2, "web": 3, "tablet": 4}  # anything else, or None, is 0
DAY = 86_400.0
NO_HISTORY_DAYS = 3650.0  # "days since last interaction" for a profile with no timed history
PROFILE_RECENT = 30  # liked titles in the content taste profile (as ContentSource: older taste drifts)
PROFILE_HALF_LIFE = 10.0  # in liked titles, newest first; order, not time, so untimed histories work
RECENT_CONTENT = 5  # last liked titles for the "max content similarity" feature
RECENT_ALS = 3  # last liked titles for the item-item (ALS factor cosine) feature

HISTORY_COLUMN = "user_history_log"  # log1p(titles in the profile)
USER = (HISTORY_COLUMN, "user_days_since_last", "user_mean_rating", "user_explicit")
CONTEXT = ("ctx_hour", "ctx_weekday", "ctx_device")
INTERACTION = (
    "als_score",
    "als_missing",
    "content_sim_profile",
    "content_sim_recent_max",
    "genre_match",
    "genre_affinity",
    "item_item_score",
    "cooccurrence_sum",
    "cooccurrence_max",
    "ease_score",
    "ease_score_share",
    "ease_rank_log",
    "vae_score",
    "vae_log_prob",
    "vae_rank_log",
    "user_knn_share",
    "user_knn_rank_log",
    "rrf_score",
)


@dataclass(frozen=True, eq=False)
class TitleStats:
    """Per-title arrays aligned to `ids` (sorted int64 title ids), from training interactions at build."""

    ids: np.ndarray
    popularity: Mapping[str, np.ndarray]  # window name -> interaction counts: "all", "365d", "30d"
    mean_rating: np.ndarray  # NaN where unrated / implicit
    rating_count: np.ndarray

    @classmethod
    def from_interactions(
        cls,
        interactions: Interactions,
        title_ids: np.ndarray,
        *,
        now: float,
        windows_days: Sequence[int] = (30, 365),
    ) -> TitleStats:
        """Counts over all time and over the `windows_days` before `now`; untimed data has no notion of
        recent, so its windows equal "all"."""
        ids = np.unique(np.asarray(title_ids, np.int64))
        pos, known = lookup(ids, interactions.items)
        pos, ratings, stamps = pos[known], interactions.ratings[known], interactions.timestamps[known]
        popularity = {"all": np.bincount(pos, minlength=len(ids)).astype(np.float64)}
        for days in sorted(windows_days, reverse=True):
            if not interactions.timed:
                popularity[f"{days}d"] = popularity["all"].copy()
                continue
            recent = (stamps >= now - days * DAY) & (stamps <= now)
            popularity[f"{days}d"] = np.bincount(pos[recent], minlength=len(ids)).astype(np.float64)
        rated = ~np.isnan(ratings)
        count = np.bincount(pos[rated], minlength=len(ids))
        total = np.bincount(pos[rated], weights=ratings[rated], minlength=len(ids))
        mean = np.full(len(ids), np.nan)
        np.divide(total, count, out=mean, where=count > 0)
        return cls(ids=ids, popularity=popularity, mean_rating=mean, rating_count=count.astype(np.int64))

    def save(self, path: Path) -> None:
        np.savez(
            path,
            ids=self.ids,
            windows=np.array(list(self.popularity), dtype=str),
            mean_rating=self.mean_rating,
            rating_count=self.rating_count,
            allow_pickle=False,  # as `load` reads it; named, it also keeps the `pop_*` arrays off this flag
            **{f"pop_{name}": counts for name, counts in self.popularity.items()},
        )

    @classmethod
    def load(cls, path: Path) -> TitleStats:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                ids=data["ids"],
                popularity={str(w): data[f"pop_{w}"] for w in data["windows"]},
                mean_rating=data["mean_rating"],
                rating_count=data["rating_count"],
            )


class FeatureBuilder:
    """Turns a context and its merged candidates into the ranker's feature matrix."""

    def __init__(
        self,
        *,
        titles: Mapping[int, Title],
        stats: TitleStats,
        als: ALSModel,
        content_ids: np.ndarray,
        content: np.ndarray,
        genres: Sequence[str],
        similarity: ItemSimilarity | None = None,
        ease: EASEModel | None = None,
        neighbours: UserNeighbours | None = None,
        vae: VAEModel | None = None,
        sources: SourceRegistry = SOURCES,
    ) -> None:
        """`content` holds unit rows aligned to `content_ids`; `genres` is the fixed genre vocabulary;
        `sources` names the source columns, in its order."""
        if not titles or len(content_ids) == 0 or len(als.item_ids) == 0:
            raise ValueError("FeatureBuilder needs a non-empty catalog, content vectors and ALS items")
        if len(content_ids) != len(content):
            raise ValueError(
                f"{len(content_ids)} content ids but {len(content)} content rows; they must align"
            )
        self._stats = stats
        self._genres = tuple(genres)
        genre_columns = tuple(f"genre_{_slug(g)}" for g in self._genres)
        if len(set(genre_columns)) != len(genre_columns):
            raise ValueError(f"genre names collide once made column names: {sorted(genre_columns)}")
        self._genre_columns = genre_columns
        self._windows = tuple(stats.popularity)
        self._sources = sources.names
        self.names: tuple[str, ...] = (
            USER
            + tuple(f"title_pop_log_{w}" for w in self._windows)
            + ("title_mean_rating", "title_rating_count_log", "title_age_years", "title_age_missing")
            + ("title_has_overview", "title_runtime", "title_runtime_missing")
            + genre_columns
            + CONTEXT
            + INTERACTION
            + _source_names(self._sources)
        )
        # Per-title data is read through the catalog's rows (sorted ids) plus one last row for a title
        # outside the catalog, which has none: one search per request finds every table's row.
        self._title_ids = np.array(sorted(titles), np.int64)
        ordered = [titles[int(t)] for t in self._title_ids]
        self._onehot = self._genre_matrix(ordered)
        # Each title's genre set as an index into the distinct sets (sorted as np.unique sorts rows), so a
        # profile's distinct sets come from a unique over ints rather than over rows.
        self._genre_sets, self._genre_set_of = np.unique(self._onehot, axis=0, return_inverse=True)
        self._static_names, self._static, self._year = self._title_table(ordered)
        self._genre_slice = slice(len(self._static_names) - len(self._genres), None)  # the table's last
        # Vectors, sorted by id so one searchsorted finds a batch of liked titles.
        order = np.argsort(content_ids)
        self._content_ids = np.asarray(content_ids, np.int64)[order]
        self._content = np.asarray(content, np.float32)[order]
        self._content_row = _catalog_rows(self._content_ids, self._title_ids)
        self._als = als
        self._factor_row = _catalog_rows(np.asarray(als.item_ids, np.int64), self._title_ids)
        self._similarity = similarity
        self._ease = ease
        self._ease_row = _catalog_rows(
            np.empty(0, np.int64) if ease is None else ease.item_ids, self._title_ids
        )
        self._neighbours = neighbours
        self._vae = vae
        self._vae_row = _catalog_rows(np.empty(0, np.int64) if vae is None else vae.item_ids, self._title_ids)
        self._similarity_row = _catalog_rows(
            np.empty(0, np.int64) if similarity is None else similarity.item_ids, self._title_ids
        )
        self._neighbour_row = _catalog_rows(
            np.empty(0, np.int64) if neighbours is None else neighbours.matrix.item_ids, self._title_ids
        )
        self._factors = np.asarray(als.item_factors, np.float32)
        self._factor_norms = np.linalg.norm(self._factors, axis=1)

    def build(self, *, context: Context, candidates: CandidateSet) -> np.ndarray:
        """float32 (len(candidates), len(names)), column-major; every entry finite."""
        ids = np.asarray(candidates.ids, np.int64)
        columns: dict[str, np.ndarray | float] = {}
        columns.update(self._user(context))
        found, in_catalog = lookup(self._title_ids, ids)
        rows = np.where(in_catalog, found, len(self._title_ids))  # the last row: outside the catalog
        columns.update(self._title(rows, context.now))
        columns.update(_context_columns(context))
        columns.update(self._interaction(ids, rows, context))
        columns["rrf_score"] = np.asarray(candidates.scores, np.float64)
        columns.update(_source_columns(candidates, self._sources))
        # Filled column by column, each a contiguous run: half the cost of writing a row-major
        # matrix's strided columns, and XGBoost scores the transposed view as fast.
        out = np.empty((len(self.names), len(ids)), np.float32)
        for j, name in enumerate(self.names):
            out[j] = columns[name]
        return out.T

    def _genre_matrix(self, titles: Sequence[Title]) -> np.ndarray:
        column = {g: j for j, g in enumerate(self._genres)}
        onehot = np.zeros((len(titles), len(self._genres)), np.float32)
        for i, title in enumerate(titles):
            for g in title.genres:
                if g in column:
                    onehot[i, column[g]] = 1.0
        return onehot

    def _title_table(self, titles: Sequence[Title]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        """Every title column that does not depend on the request, one row per catalog title and a last
        row for an unknown title (no counts, no metadata); and each row's year, a missing one as the
        catalog median (so it sits in the middle rather than at an extreme), for the age column."""
        stats = self._stats
        s, in_stats = lookup(stats.ids, self._title_ids)
        year = np.array([np.nan if t.year is None else t.year for t in titles], np.float64)
        runtime = np.array([np.nan if t.runtime is None else t.runtime for t in titles], np.float64)
        columns = {
            f"title_pop_log_{w}": np.where(in_stats, np.log1p(stats.popularity[w][s]), 0.0)
            for w in self._windows
        }
        mean = np.where(in_stats, stats.mean_rating[s], np.nan)
        columns["title_mean_rating"] = np.nan_to_num(mean, nan=0.0)
        columns["title_rating_count_log"] = np.where(in_stats, np.log1p(stats.rating_count[s]), 0.0)
        columns["title_age_missing"] = np.isnan(year)
        columns["title_has_overview"] = np.array([t.rich for t in titles], np.float64)
        columns["title_runtime_missing"] = np.isnan(runtime)
        columns["title_runtime"] = np.nan_to_num(runtime, nan=0.0)
        columns.update({name: self._onehot[:, j] for j, name in enumerate(self._genre_columns)})
        unknown = {"title_age_missing": 1.0, "title_runtime_missing": 1.0}
        table = np.array(
            [np.append(values, unknown.get(name, 0.0)) for name, values in columns.items()], np.float32
        ).T
        known_years = year[~np.isnan(year)]
        median = float(np.median(known_years)) if len(known_years) else np.nan
        filled = np.append(np.where(np.isnan(year), median, year), median)
        return tuple(columns), np.ascontiguousarray(table), filled

    def _user(self, context: Context) -> dict[str, float]:
        h = context.history
        stamps = h.timestamps[h.timestamps >= 0]
        days = max(context.now - float(stamps.max()), 0.0) / DAY if len(stamps) else NO_HISTORY_DAYS
        rated = h.weights[~np.isnan(h.weights)]
        return {
            "user_history_log": float(np.log1p(len(h))),
            "user_days_since_last": days,
            "user_mean_rating": float(rated.mean()) if len(rated) else 0.0,
            "user_explicit": float(len(rated) > 0),
        }

    def _title(self, rows: np.ndarray, now: float) -> dict[str, np.ndarray]:
        table = self._static[rows]
        cols = {name: table[:, j] for j, name in enumerate(self._static_names)}
        age = datetime.fromtimestamp(now, UTC).year - self._year[rows]
        cols["title_age_years"] = np.maximum(np.nan_to_num(age, nan=0.0), 0.0)
        return cols

    def _interaction(self, ids: np.ndarray, rows: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        liked = context.history.liked()  # oldest first
        cand_onehot = self._static[rows, self._genre_slice]
        return (
            self._als_columns(rows, liked, context)
            | self._content_columns(rows, liked)
            | self._genre_match(cand_onehot, liked)
            | self._cooccurrence(ids, rows, liked)
            | self._ease_columns(rows, context)
            | self._vae_columns(rows, context)
            | self._neighbour_columns(ids, rows, context)
        )

    def _neighbour_columns(
        self, ids: np.ndarray, rows: np.ndarray, context: Context
    ) -> dict[str, np.ndarray]:
        """The share of the profile's nearest viewers who watched the candidate, and log(1 + its rank):
        evidence from people, beside EASE's from titles (on ml-1m, where nothing built from titles
        added to EASE, this did)."""
        if self._neighbours is None:
            zeros = np.zeros(len(ids), np.float64)
            return {"user_knn_share": zeros, "user_knn_rank_log": zeros}
        share, rank = self._neighbours.scores(context.history.items, ids, columns=self._neighbour_row[rows])
        return {"user_knn_share": share, "user_knn_rank_log": rank}

    def _ease_columns(self, rows: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        """EASE's score, its share of the profile's best unseen score, and log(1 + rank) among every
        unseen title EASE scores: the evidence that made EASE the strongest single model. A title EASE
        has no column for ranks last."""
        zeros = np.zeros(len(rows), np.float64)
        if self._ease is None or not len(context.history):
            return {"ease_score": zeros, "ease_score_share": zeros, "ease_rank_log": zeros}
        scores = self._ease.scores(context.history.items)
        pos = self._ease_row[rows]
        known = pos >= 0
        cand = np.where(known, scores[pos], 0.0)
        seen, seen_known = self._ease.positions(context.history.items)
        unseen = scores.copy()
        unseen[seen[seen_known]] = -np.inf
        unseen = unseen[np.isfinite(unseen)]
        rank = np.where(known, count_above(unseen, cand), len(unseen))
        best = float(unseen.max()) if len(unseen) else 0.0
        return {
            "ease_score": cand,
            "ease_score_share": cand / best if best > 0 else zeros,
            "ease_rank_log": np.log1p(rank),
        }

    def _vae_columns(self, rows: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        """The Mult-VAE's logit, its log-probability among the unseen titles and log(1 + rank) there:
        a non-linear model of watching together, which added to EASE where nothing linear did. A
        title the VAE has no column for ranks last."""
        zeros = np.zeros(len(rows), np.float64)
        if self._vae is None or not len(context.history):
            return {"vae_score": zeros, "vae_log_prob": zeros, "vae_rank_log": zeros}
        scores = self._vae.scores(context.history.items)
        pos = self._vae_row[rows]
        known = pos >= 0
        seen, seen_known = self._vae.positions(context.history.items)
        unseen = np.delete(scores, seen[seen_known])
        if not len(unseen):
            return {"vae_score": zeros, "vae_log_prob": zeros, "vae_rank_log": zeros}
        top = float(unseen.max())
        log_total = top + float(np.log(np.exp(unseen - top).sum()))
        cand = np.where(known, scores[pos], top - 50.0)  # far below anything scored: ranks last
        rank = np.where(known, count_above(unseen, cand), len(unseen))
        return {
            "vae_score": np.where(known, cand, 0.0),
            "vae_log_prob": cand - log_total,
            "vae_rank_log": np.log1p(rank),
        }

    def _cooccurrence(self, ids: np.ndarray, rows: np.ndarray, liked: np.ndarray) -> dict[str, np.ndarray]:
        """Item-kNN evidence (watched-together cosine) summed over the liked titles, and its max."""
        if self._similarity is None:
            zeros = np.zeros(len(ids), np.float32)
            return {"cooccurrence_sum": zeros, "cooccurrence_max": zeros}
        total, best = self._similarity.scores(liked, ids, columns=self._similarity_row[rows])
        return {"cooccurrence_sum": total, "cooccurrence_max": best}

    def _als_columns(self, rows: np.ndarray, liked: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        """ALS score and item-item cosine: the user vector and the last liked titles' unit factors, in one
        multiply against the candidates' factors."""
        h = context.history
        f = self._factor_row[rows]
        has_factor = f >= 0
        cand = self._factors[f]  # rows of titles without a factor are masked out of every column below
        user = self._als.user_vector(h.items, h.weights, h.timestamps, context.now) if len(h) else None
        a, a_known = lookup(self._als.item_ids, liked[-RECENT_ALS:])
        anchors = self._factors[a[a_known]] / np.maximum(self._factor_norms[a[a_known]], 1e-12)[:, None]
        user_row = np.zeros((1, self._factors.shape[1]), np.float32) if user is None else user[None, :]
        dots = cand @ np.vstack([user_row, anchors]).T
        missing = np.logical_or(user is None, ~has_factor)
        cosines = dots[:, 1:] / np.maximum(self._factor_norms[f], 1e-12)[:, None]
        item_item = cosines.max(axis=1) if len(anchors) else np.zeros(len(rows))
        return {
            "als_score": np.where(missing, 0.0, dots[:, 0]),
            "als_missing": missing.astype(np.float32),
            "item_item_score": np.where(has_factor, item_item, 0.0),
        }

    def _content_columns(self, rows: np.ndarray, liked: np.ndarray) -> dict[str, np.ndarray]:
        """Cosine with the recency-weighted taste vector and with each of the last few liked titles, in
        one multiply; 0 where the profile or the candidate has no content vector."""
        c = self._content_row[rows]
        has_content = c >= 0
        p, p_known = lookup(self._content_ids, liked[-PROFILE_RECENT:])
        taste = self._content[p[p_known]]
        recent = taste[-RECENT_CONTENT:]
        weights = (0.5 ** (np.arange(len(taste))[::-1] / PROFILE_HALF_LIFE)).astype(np.float32)
        profile = weights @ taste if len(taste) else np.zeros(self._content.shape[1], np.float32)
        profile = profile / max(float(np.linalg.norm(profile)), 1e-12)
        # Zeroing after the multiply rather than before: each row's dot products are the same either way.
        sims = np.where(has_content[:, None], self._content[c] @ np.vstack([profile[None, :], recent]).T, 0.0)
        return {
            "content_sim_profile": sims[:, 0],
            "content_sim_recent_max": sims[:, 1:].max(axis=1) if len(recent) else np.zeros(len(rows)),
        }

    def _genre_match(self, cand_onehot: np.ndarray, liked: np.ndarray) -> dict[str, np.ndarray]:
        """Share of liked titles sharing a genre with the candidate, and the candidate's mean genre share.

        Liked titles collapse to their distinct genre sets (with counts), so long histories stay cheap.
        """
        g, g_known = lookup(self._title_ids, liked)
        liked_onehot = self._onehot[g[g_known]]
        sets, counts = np.unique(self._genre_set_of[g[g_known]], return_counts=True)
        patterns = self._genre_sets[sets]
        share = liked_onehot.mean(axis=0) if len(liked_onehot) else np.zeros(len(self._genres), np.float32)
        overlap = cand_onehot @ np.vstack([patterns, share[None, :]]).T
        match = (overlap[:, :-1] > 0).astype(np.float64) @ counts / max(len(liked_onehot), 1)
        return {
            "genre_match": match,
            "genre_affinity": overlap[:, -1] / np.maximum(cand_onehot.sum(axis=1), 1.0),
        }


def _context_columns(context: Context) -> dict[str, float]:
    when = datetime.fromtimestamp(context.now, UTC)
    device = DEVICES.get((context.device or "").lower(), 0)
    return {"ctx_hour": float(when.hour), "ctx_weekday": float(when.weekday()), "ctx_device": float(device)}


def _source_names(sources: tuple[str, ...]) -> tuple[str, ...]:
    """src_<name> is 0/1; src_<name>_rank is the source's 0-based rank + 1, and 0 when the source did not
    propose the title, so "absent" sorts apart from "first" and trees split on > 0."""
    return tuple(c for s in sources for c in (f"src_{s}", f"src_{s}_rank")) + ("n_sources",)


def _source_columns(candidates: CandidateSet, sources: tuple[str, ...]) -> dict[str, np.ndarray]:
    # One flat pass over the provenance, then array work. Code j < len(sources) is sources[j]; any other
    # source gets a code of its own, counted in n_sources but given no columns.
    codes = {s: j for j, s in enumerate(sources)}
    flat: list[int] = []  # (position, code, rank) per proposal, flattened: a flat list converts fastest
    for i, proposals in enumerate(candidates.provenance):
        for c in proposals:
            flat += (i, codes.setdefault(c.source, len(codes)), c.rank)
    position, code, rank = np.array(flat, np.int64).reshape(-1, 3).T
    best = np.full((len(candidates), len(codes)), np.inf)
    np.minimum.at(best, (position, code), rank + 1.0)  # a source's best (lowest) rank, + 1
    proposed = best < np.inf
    flags = proposed.astype(np.float32)
    ranks = np.where(proposed, best, 0.0).astype(np.float32)
    cols = {f"src_{s}": flags[:, j] for j, s in enumerate(sources)}
    cols |= {f"src_{s}_rank": ranks[:, j] for j, s in enumerate(sources)}
    return cols | {"n_sources": proposed.sum(axis=1).astype(np.float32)}


def _catalog_rows(sorted_ids: np.ndarray, catalog: np.ndarray) -> np.ndarray:
    """Each catalog row's position in `sorted_ids`, -1 where absent; one more -1 for the row of a
    title outside the catalog."""
    pos, found = lookup(sorted_ids, catalog)
    return np.append(np.where(found, pos, -1), -1)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
