from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval import Candidate, PoolFusion, merge

SOURCES = ("strong", "loud", "weak")
DEPTHS = (20, 20, 20)


def _list(source: str, ids: list[int]) -> list[Candidate]:
    return [Candidate(t, source, 1.0 / (r + 1), r, f"{source} reason") for r, t in enumerate(ids)]


def _profile(rng: np.random.Generator) -> tuple[list[list[Candidate]], set[int]]:
    """Three sources of 20 titles over a catalog of 200. `strong`'s first titles are the ones the user
    wants; `loud` and `weak` agree with each other on other titles, so a plain reciprocal-rank cut
    (two votes beat one) keeps theirs and drops most of `strong`'s head."""
    catalog = rng.permutation(200)
    relevant = catalog[:5].tolist()
    shared = catalog[5:25].tolist()
    strong = [*relevant, *catalog[25:40].tolist()]
    return [_list("strong", strong), _list("loud", shared), _list("weak", shared[::-1])], set(relevant)


def _fitted(profiles: list[tuple[list[list[Candidate]], set[int]]], length: int = 50) -> PoolFusion:
    unfitted = PoolFusion(SOURCES, depths=DEPTHS, short_below=10, weights=np.zeros(PoolFusion.width(3)))
    rows, labels = [], []
    for lists, relevant in profiles:
        ids, X, _ = unfitted.features(lists, length)
        rows.append(X)
        labels.append(np.isin(ids, list(relevant)).astype(np.float64))
    X, y = np.concatenate(rows), np.concatenate(labels)
    return PoolFusion.fit(X, y, sources=SOURCES, depths=DEPTHS, short_below=10)


def _recall(ids: np.ndarray, relevant: set[int]) -> float:
    return len(set(ids.tolist()) & relevant) / len(relevant)


def test_a_learned_fusion_keeps_the_source_that_finds_what_users_want() -> None:
    rng = np.random.default_rng(0)
    fusion = _fitted([_profile(rng) for _ in range(40)])
    held = [_profile(rng) for _ in range(20)]  # profiles the fusion never saw
    fused = np.mean([_recall(fusion.fuse(lists, 50, 10, 0).ids, relevant) for lists, relevant in held])
    rrf = np.mean([_recall(merge(lists).top(10).ids, relevant) for lists, relevant in held])
    assert fused == 1.0 and rrf < 0.5
    column = SOURCES.index("strong") * 3
    assert fusion.weights[column + 1] > 0  # a higher place in `strong` is worth more


def test_the_pool_keeps_each_titles_proposers_and_the_best_rank_of_a_repeated_source() -> None:
    fusion = PoolFusion(SOURCES, depths=(20, 30, 40), short_below=10, weights=np.zeros(PoolFusion.width(3)))
    lists = [_list("strong", [7, 8, 7]), _list("loud", [8])]
    ids, X, provenance = fusion.features(lists, 50)
    at = ids.tolist().index(7)
    assert X[at, 0] == 1.0 and X[at, 2] == 0.0  # listed, at rank 0 (log1p(0)), not at its repeat's 2
    assert X[at, 3] == 0.0 and X[at, 5] == pytest.approx(np.log1p(30))  # as if past `loud`'s 30
    assert [c.source for c in provenance[ids.tolist().index(8)]] == ["strong", "loud"]


def test_titles_of_sources_it_never_weighed_stay_after_the_cut() -> None:
    weights = np.zeros(PoolFusion.width(3))
    weights[1] = 1.0  # `strong`'s reciprocal rank
    fusion = PoolFusion(SOURCES, depths=DEPTHS, short_below=10, weights=weights)
    lists = [_list("strong", [1, 2, 3, 4]), _list("history", [9, 2, 8, 7])]
    pool = fusion.fuse(lists, 50, 2, others=2)
    assert pool.ids.tolist() == [1, 2, 9, 8]  # the cut at 2, then up to 2 of the profile's own titles
    assert [c.source for c in pool.provenance[1]] == ["strong", "history"]
    assert [c.source for c in pool.provenance[2]] == ["history"]


def test_short_profiles_are_weighed_by_their_own_block() -> None:
    weights = np.zeros(PoolFusion.width(3))
    weights[1] = 1.0  # whole histories: `strong` first
    weights[9 + 4] = 5.0  # short profiles: `loud` outweighs it
    fusion = PoolFusion(SOURCES, depths=DEPTHS, short_below=10, weights=weights)
    lists = [_list("strong", [1]), _list("loud", [2])]
    assert fusion.fuse(lists, 50, 1, 0).ids.tolist() == [1]
    assert fusion.fuse(lists, 3, 1, 0).ids.tolist() == [2]


def test_a_saved_fusion_loads_to_the_same_pool_and_a_damaged_one_is_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    fusion = _fitted([_profile(rng) for _ in range(10)])
    fusion.save(tmp_path / "fusion.json")
    loaded = PoolFusion.load(tmp_path / "fusion.json")
    lists, _ = _profile(rng)
    assert loaded.fuse(lists, 4, 12, 0).ids.tolist() == fusion.fuse(lists, 4, 12, 0).ids.tolist()
    meta = (tmp_path / "fusion.json").read_text().replace('"weak"', '"weak", "extra"')
    (tmp_path / "broken.json").write_text(meta)
    with pytest.raises(ValueError, match="weights for 4 sources"):
        PoolFusion.load(tmp_path / "broken.json")
