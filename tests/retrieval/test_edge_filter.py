"""The TitleFilter -> Qdrant Edge Filter conversion, which a request's queries share."""

from __future__ import annotations

from dataclasses import replace

from retrieval.edge_index import edge_filter
from retrieval.index import TitleFilter


def test_equal_filters_share_one_conversion() -> None:
    where = TitleFilter(exclude_ids=frozenset({1, 2}), genres_any=("Drama",), maturity_in=("PG",))
    same = TitleFilter(exclude_ids=frozenset([2, 1]), genres_any=("Drama",), maturity_in=("PG",))
    assert edge_filter(where) is edge_filter(same)
    in_region = edge_filter(replace(where, region="GB"))
    assert in_region is not edge_filter(where)
    assert "GB" in repr(in_region) and "GB" not in repr(edge_filter(where))
    assert edge_filter(TitleFilter()) is None and edge_filter(None) is None
