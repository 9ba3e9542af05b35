from __future__ import annotations

from retrieval import Candidate, merge


def _list(source: str, ids: list[int]) -> list[Candidate]:
    return [Candidate(t, source, 1.0 / (r + 1), r, f"{source} reason") for r, t in enumerate(ids)]


def test_merge_keeps_every_sources_provenance_and_fuses_ranks() -> None:
    merged = merge([_list("als", [1, 2, 3]), _list("content", [3, 4]), _list("popular", [3, 1])])
    assert merged.ids[0] == 3  # proposed by all three sources
    by_id = {t: p for t, _, p in merged}
    assert {c.source for c in by_id[3]} == {"als", "content", "popular"}
    assert {c.source for c in by_id[4]} == {"content"}
    assert len(merged) == 4
    assert list(merged.scores) == sorted(merged.scores, reverse=True)
    assert merged.top(2).ids.tolist() == merged.ids[:2].tolist()


def test_merge_of_nothing_is_empty() -> None:
    assert len(merge([[], []])) == 0


def test_without_only_drops_titles_no_other_source_wanted() -> None:
    merged = merge([_list("history", [1, 2]), _list("als", [2, 3])])
    kept = merged.without_only(frozenset({"history"}))
    assert sorted(kept.ids.tolist()) == [2, 3]
    assert all(len(p) >= 1 for p in kept.provenance)


def test_quotas_keep_a_sources_head_in_the_cut_pool() -> None:
    # Three weak sources agree on 10-13; EASE's own head (1, 2) fuses lower and would fall out of a cut at 4.
    weak = [_list(name, [10, 11, 12, 13]) for name in ("popular", "trending", "genre")]
    ease = _list("ease", [1, 2, 3])
    assert not {1, 2} & set(merge([*weak, ease]).top(4).ids.tolist())
    pooled = merge([*weak, ease], quotas={"ease": 2}).top(4)
    assert pooled.ids.tolist() == [1, 2, 10, 11]  # reserved first, then the fused order
    assert {c.source for c in pooled.provenance[0]} == {"ease"}
