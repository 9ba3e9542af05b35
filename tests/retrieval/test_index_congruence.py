"""One suite for every TitleIndex backend: Qdrant Edge and qdrant-client (local mode here).

Each backend must give the same top-k ids (and scores within 1e-4) as a numpy brute force over the same
vectors with the same filter applied by hand, for every filter kind alone and combined, for both named
vectors, and for `top_by`. The data is small enough that every search is exact. The in-memory filter of
the degraded mode (`PopularityFallback`) must admit exactly the titles both backends return.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient

from catalog import Business, Title
from retrieval.client_index import ClientIndex
from retrieval.edge_index import EdgeIndex
from retrieval.fallback import PopularityFallback
from retrieval.index import (
    CF,
    CONTENT,
    DISTANCES,
    Hit,
    IndexUnavailableError,
    TitleFilter,
    TitleIndex,
    TitlePoint,
)
from retrieval.indexing import filter_payload

# qdrant-client's local mode says, once per process, that it ignores payload indexes.
LOCAL_MODE_WARNING = "ignore:Payload indexes have no effect in the local Qdrant:UserWarning"
BACKENDS = [
    pytest.param("edge", id="edge"),
    pytest.param("client-local", id="client-local", marks=pytest.mark.filterwarnings(LOCAL_MODE_WARNING)),
]

N = 300
DIMS = {CONTENT: 24, CF: 8}
GENRES = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller", "Animation"]
REGIONS = ["US", "GB", "DE", "FR", "JP"]
MATURITY = ["G", "PG", "PG-13", "R", "NC-17"]


# -- data and the numpy reference ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Data:
    ids: np.ndarray  # (N,) int64
    vectors: dict[str, np.ndarray]  # name -> (N, d) float64, as given
    has: dict[str, np.ndarray]  # name -> (N,) bool: the point carries that vector
    payloads: list[dict[str, Any]]

    def points(self) -> list[TitlePoint]:
        return [
            TitlePoint(
                int(self.ids[i]),
                {name: self.vectors[name][i].astype(np.float32) for name in DIMS if self.has[name][i]},
                self.payloads[i],
            )
            for i in range(len(self.ids))
        ]


def make_data(seed: int = 7) -> Data:
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(np.arange(1, 200_000), size=N, replace=False)).astype(np.int64)
    vectors = {name: rng.normal(size=(N, d)) for name, d in DIMS.items()}
    has = {CONTENT: np.ones(N, dtype=bool), CF: rng.random(N) > 0.1}  # some titles ALS never saw
    payloads: list[dict[str, Any]] = []
    for _ in range(N):
        p: dict[str, Any] = {
            "genres": [str(g) for g in rng.choice(GENRES, size=rng.integers(0, 4), replace=False)],
            "trending": float(rng.exponential(10.0)),
        }
        if rng.random() > 0.1:
            p["year"] = int(rng.integers(1950, 2024))
        if rng.random() > 0.15:
            p["runtime"] = int(rng.integers(70, 200))
        if rng.random() > 0.1:
            p["maturity"] = str(rng.choice(MATURITY))
        if rng.random() > 0.05:
            p["regions"] = [str(r) for r in rng.choice(REGIONS, size=rng.integers(1, 4), replace=False)]
        if rng.random() > 0.05:
            p["popularity"] = float(rng.lognormal(3.0, 1.0))
        payloads.append(p)
    return Data(ids, vectors, has, payloads)


DATA = make_data()
_RNG = np.random.default_rng(11)
SOME_IDS = frozenset(int(i) for i in _RNG.choice(DATA.ids, size=60, replace=False))
FEW_IDS = frozenset(int(i) for i in _RNG.choice(DATA.ids, size=30, replace=False))

FILTERS = {
    "none": TitleFilter(),
    "exclude_ids": TitleFilter(exclude_ids=SOME_IDS),
    "genres_any": TitleFilter(genres_any=("Comedy", "Horror")),
    "genres_none": TitleFilter(genres_none=("Drama",)),
    "year_range": TitleFilter(year_min=1980, year_max=2000),
    "year_min": TitleFilter(year_min=2005),
    "year_max": TitleFilter(year_max=1970),
    "max_runtime": TitleFilter(max_runtime=100),
    "maturity_in": TitleFilter(maturity_in=("PG", "PG-13")),
    "region": TitleFilter(region="JP"),
    "combined": TitleFilter(
        exclude_ids=FEW_IDS,
        genres_any=("Action", "Sci-Fi", "Thriller"),
        genres_none=("Romance",),
        year_min=1970,
        max_runtime=160,
        maturity_in=("PG-13", "R"),
        region="US",
    ),
    "combined_wide": TitleFilter(exclude_ids=SOME_IDS, genres_none=("Animation", "Horror"), year_max=2015),
}


def matches(i: int, where: TitleFilter) -> bool:
    """The filter's meaning, written out by hand: a condition on a missing field fails."""
    p = DATA.payloads[i]
    if int(DATA.ids[i]) in where.exclude_ids:
        return False
    genres = set(p.get("genres", []))
    if where.genres_any and not genres & set(where.genres_any):
        return False
    if genres & set(where.genres_none):
        return False
    if where.year_min is not None and not ("year" in p and p["year"] >= where.year_min):
        return False
    if where.year_max is not None and not ("year" in p and p["year"] <= where.year_max):
        return False
    if where.max_runtime is not None and not ("runtime" in p and p["runtime"] <= where.max_runtime):
        return False
    if where.maturity_in and p.get("maturity") not in where.maturity_in:
        return False
    return where.region is None or where.region in p.get("regions", [])


def mask(where: TitleFilter) -> np.ndarray:
    return np.array([matches(i, where) for i in range(N)], dtype=bool)


def ref_search(vector: str, query: np.ndarray, k: int, where: TitleFilter) -> tuple[list[int], np.ndarray]:
    mat = DATA.vectors[vector]
    if DISTANCES[vector] == "cosine":
        mat = mat / np.linalg.norm(mat, axis=1, keepdims=True)
        query = query / np.linalg.norm(query)
    scores = mat @ query
    rows = np.flatnonzero(mask(where) & DATA.has[vector])
    top = rows[np.argsort(-scores[rows], kind="stable")[:k]]
    return DATA.ids[top].tolist(), scores[top]


def ref_top_by(field: str, where: TitleFilter) -> dict[int, float]:
    """id -> value of every eligible point that has the field."""
    return {
        int(DATA.ids[i]): float(DATA.payloads[i][field])
        for i in range(N)
        if field in DATA.payloads[i] and matches(i, where)
    }


def assert_hits(hits: list[Hit], ids: list[int], scores: np.ndarray) -> None:
    assert [h.id for h in hits] == ids
    np.testing.assert_allclose([h.score for h in hits], scores, rtol=0, atol=1e-4)


def assert_top_by(hits: list[Hit], eligible: dict[int, float], k: int) -> None:
    """A correct top-k by value, whichever way ties at the cut are broken."""
    expected = sorted(eligible.values(), reverse=True)[:k]
    assert len(hits) == len(expected)
    assert len({h.id for h in hits}) == len(hits)
    np.testing.assert_allclose([h.score for h in hits], expected, rtol=0, atol=1e-9)
    for h in hits:
        assert h.id in eligible and eligible[h.id] == pytest.approx(h.score)


QUERIES = {name: np.random.default_rng(3).normal(size=(4, d)) for name, d in DIMS.items()}


# -- backends ------------------------------------------------------------------------------------------


def create_index(backend: str, where: Path | None) -> TitleIndex:
    """A fresh index; on disk under `where` when given, else in memory (client) or a temp dir (edge)."""
    if backend == "edge":
        assert where is not None
        return EdgeIndex.create(where / "edge", DIMS)
    client = QdrantClient(path=str(where / "local")) if where is not None else QdrantClient(":memory:")
    return ClientIndex.create(client, DIMS)


def reopen_index(backend: str, where: Path) -> TitleIndex:
    if backend == "edge":
        return EdgeIndex.open(where / "edge")
    return ClientIndex.open(QdrantClient(path=str(where / "local")))


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TitleIndex]:
    backend = request.param
    index = create_index(backend, tmp_path_factory.mktemp(backend) if backend == "edge" else None)
    index.upsert(DATA.points())
    yield index
    index.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


# -- the congruence suite ------------------------------------------------------------------------------


def test_count(loaded: TitleIndex) -> None:
    assert loaded.count() == N


def test_an_index_in_hand_is_not_known_down(loaded: TitleIndex) -> None:
    assert loaded.known_down() is None


@pytest.mark.parametrize("vector", [CONTENT, CF])
@pytest.mark.parametrize("case", list(FILTERS))
def test_search_equals_brute_force(loaded: TitleIndex, case: str, vector: str) -> None:
    where = FILTERS[case]
    assert mask(where).sum() > 0, "every case keeps some titles"
    for query in QUERIES[vector]:
        for k in (10, 50):
            ids, scores = ref_search(vector, query, k, where)
            for exact in (True, False):
                hits = loaded.search(vector=vector, query=query, k=k, where=where, exact=exact)
                assert_hits(hits, ids, scores)


@pytest.mark.parametrize("field", ["popularity", "trending", "year", "runtime"])
@pytest.mark.parametrize(
    "case", ["none", "exclude_ids", "genres_any", "year_range", "region", "combined_wide"]
)
def test_top_by_equals_sort(loaded: TitleIndex, case: str, field: str) -> None:
    where = FILTERS[case]
    eligible = ref_top_by(field, where)
    for k in (1, 10, 40):
        hits = loaded.top_by(field=field, k=k, where=where)
        assert_top_by(hits, eligible, k)
        # Years and runtimes tie: equal values come by id, so one query always gives one answer.
        assert [h.id for h in hits] == sorted(eligible, key=lambda i: (-eligible[i], i))[:k]


def test_top_by_breaks_ties_by_id_whatever_the_insertion_order(backend: str, tmp_path: Path) -> None:
    """A small catalog's popularity counts tie in long runs; the titles at the cut must not depend on
    how Qdrant stores the points (it returned them in no fixed order, so builds differed)."""
    rng = np.random.default_rng(1)
    ids = rng.permutation(np.arange(1, 301))
    values = {int(i): float(rng.integers(0, 4)) for i in ids}
    index = create_index(backend, tmp_path)
    try:
        for start in range(0, len(ids), 7):  # small writes in shuffled order: many segments' worth
            batch = ids[start : start + 7]
            vectors = rng.normal(size=(len(batch), DIMS[CONTENT]))
            index.upsert(
                [
                    TitlePoint(int(i), {CONTENT: v}, {"popularity": values[int(i)]})
                    for i, v in zip(batch, vectors, strict=True)
                ]
            )
        expected = sorted(values, key=lambda i: (-values[i], i))
        for k in (1, 30, 90, 150, 299):
            assert [h.id for h in index.top_by(field="popularity", k=k)] == expected[:k]
    finally:
        index.close()


def test_search_breaks_ties_by_id_whatever_the_insertion_order(backend: str, tmp_path: Path) -> None:
    """Titles with the same text share one content vector; which of them make the cut, and their order,
    must not depend on how the points were stored (an index build's order moved the ranker's pools)."""
    rng = np.random.default_rng(2)
    ids = rng.permutation(np.arange(1, 301))
    shared = rng.normal(size=(4, DIMS[CONTENT]))  # four distinct texts, 75 titles each
    text = {int(i): int(rng.integers(0, 4)) for i in ids}
    index = create_index(backend, tmp_path)
    try:
        for start in range(0, len(ids), 7):
            batch = ids[start : start + 7]
            index.upsert([TitlePoint(int(i), {CONTENT: shared[text[int(i)]]}, {}) for i in batch])
        query = shared[0] + 0.5 * shared[1]
        unit = shared / np.linalg.norm(shared, axis=1, keepdims=True)
        score = {i: float(unit[t] @ query) for i, t in text.items()}
        expected = sorted(score, key=lambda i: (-round(score[i], 4), i))
        for k in (1, 30, 90, 150, 299):
            for exact in (True, False):
                hits = index.search(vector=CONTENT, query=query, k=k, exact=exact)
                assert [h.id for h in hits] == expected[:k]
    finally:
        index.close()


def test_k_beyond_matches_returns_all_matches(loaded: TitleIndex) -> None:
    where = FILTERS["combined"]
    n_match = int((mask(where) & DATA.has[CONTENT]).sum())
    hits = loaded.search(vector=CONTENT, query=QUERIES[CONTENT][0], k=N, where=where)
    assert len(hits) == n_match
    assert loaded.search(vector=CONTENT, query=QUERIES[CONTENT][0], k=0) == []
    assert loaded.top_by(field="popularity", k=0) == []


def test_seen_titles_never_come_back(loaded: TitleIndex) -> None:
    seen = frozenset(int(i) for i in np.random.default_rng(5).choice(DATA.ids, size=250, replace=False))
    unseen = set(DATA.ids.tolist()) - seen
    for vector in (CONTENT, CF):
        with_vector = {int(i) for i in DATA.ids[DATA.has[vector]]} & unseen
        for query in QUERIES[vector]:
            for exact in (True, False):
                hits = loaded.search(
                    vector=vector, query=query, k=100, where=TitleFilter(exclude_ids=seen), exact=exact
                )
                assert {h.id for h in hits} == with_vector  # everything else, and nothing seen
    for field in ("popularity", "year"):
        hits = loaded.top_by(field=field, k=100, where=TitleFilter(exclude_ids=seen))
        assert hits and not {h.id for h in hits} & seen


def test_vectors_round_trip(loaded: TitleIndex) -> None:
    rows = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    ids = [int(DATA.ids[r]) for r in rows] + [999_999_999]  # the last one does not exist
    for vector in (CONTENT, CF):
        got = loaded.vectors(vector=vector, ids=ids)
        expected_rows = [r for r in rows if DATA.has[vector][r]]
        assert set(got) == {int(DATA.ids[r]) for r in expected_rows}
        for r in expected_rows:
            want = DATA.vectors[vector][r].astype(np.float32)
            if DISTANCES[vector] == "cosine":  # Qdrant stores cosine vectors normalized
                want = want / np.linalg.norm(want)
            np.testing.assert_allclose(got[int(DATA.ids[r])], want, rtol=0, atol=1e-6)
    assert loaded.vectors(vector=CF, ids=[]) == {}


@pytest.mark.filterwarnings(LOCAL_MODE_WARNING)
def test_backends_agree(tmp_path: Path) -> None:
    """Not only each against numpy: the two backends' answers side by side, ids and scores."""
    indexes = [create_index("edge", tmp_path), create_index("client-local", None)]
    for index in indexes:
        index.upsert(DATA.points())
    try:
        for case, where in FILTERS.items():
            for vector in (CONTENT, CF):
                edge, client = (
                    index.search(vector=vector, query=QUERIES[vector][1], k=20, where=where)
                    for index in indexes
                )
                assert [h.id for h in edge] == [h.id for h in client], case
                np.testing.assert_allclose([h.score for h in edge], [h.score for h in client], atol=1e-4)
            edge, client = (index.top_by(field="trending", k=20, where=where) for index in indexes)
            assert edge == client, case
    finally:
        for index in indexes:
            index.close()


def test_upsert_replaces_a_point(backend: str, tmp_path: Path) -> None:
    index = create_index(backend, tmp_path if backend == "edge" else None)
    try:
        index.upsert(DATA.points())
        target = int(DATA.ids[0])
        only_target = TitleFilter(region="Atlantis")
        assert index.search(vector=CONTENT, query=QUERIES[CONTENT][0], k=5, where=only_target) == []
        moved = TitlePoint(target, {CONTENT: QUERIES[CONTENT][0]}, {"regions": ["Atlantis"], "year": None})
        index.upsert([moved])
        assert index.count() == N
        hits = index.search(vector=CONTENT, query=QUERIES[CONTENT][0], k=5, where=only_target)
        assert [h.id for h in hits] == [target] and hits[0].score == pytest.approx(1.0, abs=1e-5)
        assert index.vectors(vector=CF, ids=[target]) == {}  # the replacement carries no cf vector
        assert target not in {h.id for h in index.top_by(field="year", k=N)}  # nor a year
    finally:
        index.close()


def test_persistence(backend: str, tmp_path: Path) -> None:
    """Create, fill, close, open again: the same answers."""
    index = create_index(backend, tmp_path)
    index.upsert(DATA.points())

    def answers(ix: TitleIndex) -> list[Any]:
        out: list[Any] = [ix.count()]
        for case in ("none", "combined", "combined_wide", "region"):
            out.append(ix.search(vector=CONTENT, query=QUERIES[CONTENT][2], k=15, where=FILTERS[case]))
            out.append(ix.search(vector=CF, query=QUERIES[CF][2], k=15, where=FILTERS[case]))
            out.append(ix.top_by(field="popularity", k=15, where=FILTERS[case]))
        return out

    before = answers(index)
    index.close()
    again = reopen_index(backend, tmp_path)
    try:
        assert again.dims == DIMS  # type: ignore[attr-defined]
        after = answers(again)
        assert after[0] == before[0]
        for got, want in zip(after[1:], before[1:], strict=True):  # the same hits, up to float rounding
            assert [h.id for h in got] == [h.id for h in want]
            np.testing.assert_allclose([h.score for h in got], [h.score for h in want], rtol=0, atol=1e-5)
    finally:
        again.close()


@pytest.mark.parametrize("bad", ["vector_name", "query_size", "point_size", "top_by_field"])
def test_bad_arguments_raise(backend: str, tmp_path: Path, bad: str) -> None:
    index = create_index(backend, tmp_path if backend == "edge" else None)
    calls: dict[str, Callable[[], object]] = {
        "vector_name": lambda: index.search(vector="plot", query=np.ones(24), k=3),
        "query_size": lambda: index.search(vector=CONTENT, query=np.ones(23), k=3),
        "point_size": lambda: index.upsert([TitlePoint(1, {CF: np.ones(9)})]),
        "top_by_field": lambda: index.top_by(field="genres", k=3),
    }
    try:
        with pytest.raises(ValueError):
            calls[bad]()
    finally:
        index.close()


# -- backend-specific construction ---------------------------------------------------------------------


def test_edge_create_refuses_an_existing_index(tmp_path: Path) -> None:
    index = EdgeIndex.create(tmp_path / "idx", DIMS)
    index.upsert(DATA.points()[:10])
    index.close()
    with pytest.raises(FileExistsError):
        EdgeIndex.create(tmp_path / "idx", DIMS)
    reopened = EdgeIndex.open(tmp_path / "idx")  # and it left the existing one alone
    assert reopened.count() == 10
    reopened.close()
    with pytest.raises(FileNotFoundError):
        EdgeIndex.open(tmp_path / "nothing-here")
    with pytest.raises(ValueError):
        EdgeIndex.create(tmp_path / "other", {"plot": 8})


@pytest.mark.filterwarnings(LOCAL_MODE_WARNING)
def test_client_create_and_open_collections() -> None:
    client = QdrantClient(":memory:")
    index = ClientIndex.create(client, DIMS, collection="films")
    index.upsert(DATA.points()[:10])
    with pytest.raises(FileExistsError):
        ClientIndex.create(client, DIMS, collection="films")
    assert ClientIndex.open(client, collection="films").count() == 10  # left alone
    assert ClientIndex.create(client, {CONTENT: 4}, collection="films", replace=True).count() == 0
    with pytest.raises(IndexUnavailableError):
        ClientIndex.open(client, collection="missing")
    client.close()


def test_connect_raises_when_no_server_answers() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(IndexUnavailableError, match=f"127.0.0.1:{port}"):
        ClientIndex.connect(f"http://127.0.0.1:{port}", timeout=2)


# -- HNSW on real vectors ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.realdata
def test_edge_hnsw_recall_on_real_catalog(
    ml_small_titles: list, ml_small_content: np.ndarray, tmp_path: Path
) -> None:
    """Approximate (HNSW) search finds what exact search finds: recall@10 >= 0.99, filtered or not."""
    titles, content = ml_small_titles, ml_small_content
    index = EdgeIndex.create(tmp_path / "edge", {CONTENT: content.shape[1]})
    index.upsert(
        [
            TitlePoint(t.id, {CONTENT: v}, {"genres": list(t.genres), "year": t.year})
            for t, v in zip(titles, content, strict=True)
        ]
    )
    try:
        assert index.count() == len(titles)
        assert index.indexed_vectors_count() > 0, "the bulk load built an HNSW graph"
        rng = np.random.default_rng(0)
        ids = np.array([t.id for t in titles])
        queries = rng.choice(len(titles), size=200, replace=False)
        seen = frozenset(int(i) for i in rng.choice(ids, size=200, replace=False))
        cases = {
            "none": TitleFilter(),
            "genres_any": TitleFilter(genres_any=("Comedy",)),
            "seen_and_genres_none": TitleFilter(exclude_ids=seen, genres_none=("Drama",)),
        }
        for case, where in cases.items():
            found = total = 0
            for row in queries:
                exact = index.search(vector=CONTENT, query=content[row], k=10, where=where, exact=True)
                approx = index.search(vector=CONTENT, query=content[row], k=10, where=where)
                found += len({h.id for h in exact} & {h.id for h in approx})
                total += len(exact)
            assert found / total >= 0.99, f"{case}: recall@10 {found / total:.4f}"
        # and exact search is what numpy says it is
        row = int(queries[0])
        ref = ids[np.argsort(-(content @ content[row]), kind="stable")[:10]].tolist()
        assert [h.id for h in index.search(vector=CONTENT, query=content[row], k=10, exact=True)] == ref
    finally:
        index.close()


def test_filter_cases_cover_every_field() -> None:
    """Guard against a TitleFilter field added later without a congruence case."""
    for name in TitleFilter.__dataclass_fields__:
        alone = [
            case
            for case, where in FILTERS.items()
            if where == replace(TitleFilter(), **{name: getattr(where, name)})
        ]
        assert any(getattr(FILTERS[case], name) != getattr(TitleFilter(), name) for case in alone), name


# -- the degraded mode's in-memory filter, against both backends -------------------------------------------


def make_catalog(seed: int = 13) -> tuple[dict[int, Title], dict[int, Business]]:
    """Titles on DATA's ids (so FILTERS apply), each field sometimes missing; some without business facts,
    whose maturity then comes from the title and who have no regions."""
    rng = np.random.default_rng(seed)
    titles: dict[int, Title] = {}
    business: dict[int, Business] = {}
    for title_id in DATA.ids.tolist():
        titles[title_id] = Title(
            title_id,
            f"title {title_id}",
            int(rng.integers(1950, 2024)) if rng.random() > 0.1 else None,
            tuple(str(g) for g in rng.choice(GENRES, size=rng.integers(0, 4), replace=False)),
            runtime=int(rng.integers(70, 200)) if rng.random() > 0.15 else None,
            maturity=str(rng.choice(MATURITY)) if rng.random() > 0.3 else None,
        )
        if rng.random() > 0.1:
            regions = tuple(str(r) for r in rng.choice(REGIONS, size=rng.integers(1, 4), replace=False))
            business[title_id] = Business(False, float("inf"), regions, str(rng.choice(MATURITY)))
    return titles, business


@pytest.mark.filterwarnings(LOCAL_MODE_WARNING)
def test_fallback_admits_what_every_backend_returns(tmp_path: Path) -> None:
    titles, business = make_catalog()
    fallback = PopularityFallback(titles, {}, business)
    points = [
        TitlePoint(t, {CONTENT: DATA.vectors[CONTENT][i]}, filter_payload(titles[t], business.get(t)))
        for i, t in enumerate(DATA.ids.tolist())
    ]
    no_runtime = [t for t, title in titles.items() if title.runtime is None]
    no_year = [t for t, title in titles.items() if title.year is None]
    no_facts = [t for t in titles if t not in business and titles[t].maturity in ("PG", "PG-13")]
    assert no_runtime and no_year and no_facts, "the catalog holds every kind of missing field"
    indexes = [create_index("edge", tmp_path), create_index("client-local", None)]
    try:
        for index in indexes:
            index.upsert(points)
        for case, where in FILTERS.items():
            admitted = {t for t in titles if fallback.passes(t, where)}
            assert admitted, case
            for index in indexes:
                hits = index.search(vector=CONTENT, query=QUERIES[CONTENT][0], k=N, where=where, exact=True)
                assert {h.id for h in hits} == admitted, case
        # the missing-value rules, spelled out: a condition on a field the title lacks fails
        assert not any(fallback.passes(t, FILTERS["max_runtime"]) for t in no_runtime)
        assert not any(fallback.passes(t, FILTERS["year_range"]) for t in no_year)
        assert not any(fallback.passes(t, FILTERS["region"]) for t in no_facts)
        assert all(fallback.passes(t, FILTERS["maturity_in"]) for t in no_facts)  # the title's own rating
        no_genres = [t for t, title in titles.items() if not title.genres]
        assert no_genres and all(fallback.passes(t, FILTERS["genres_none"]) for t in no_genres)
    finally:
        for index in indexes:
            index.close()


def test_a_server_that_stops_answering_is_a_known_failure() -> None:
    """Queries against a Qdrant server that has gone away raise IndexUnavailableError, not a transport
    error, so serving can fall back to popularity rows."""
    import socket

    from qdrant_client import QdrantClient

    from retrieval import ClientIndex, IndexUnavailableError

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = QdrantClient(url=f"http://127.0.0.1:{port}", timeout=2, check_compatibility=False)
    index = ClientIndex(client, "titles", {"content": 4})
    assert index.known_down() is None  # nothing has failed yet
    with pytest.raises(IndexUnavailableError, match="unavailable") as failed:
        index.search(vector="content", query=np.ones(4, np.float32), k=3)
    # Known down from its own state, so a request can skip preparing a query; asked again after a while.
    assert index.known_down() == str(failed.value)
    index.recheck_s = 0.0
    assert index.known_down() is None
    with pytest.raises(IndexUnavailableError):
        index.top_by(field="popularity", k=3)
    with pytest.raises(IndexUnavailableError):
        index.count()
    index.close()
