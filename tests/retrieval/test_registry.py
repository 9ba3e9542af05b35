"""The source registry: unique names, sources built under their kind's name, lookup by identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from catalog import Context
from retrieval import HISTORY_KIND, SOURCES, Candidate, SourceKind, SourceRegistry


@dataclass
class _Named:
    name: str

    def candidates(self, *, context: Context, k: int) -> list[Candidate]:
        return []


def test_names_must_be_unique_and_the_error_names_the_repeat() -> None:
    with pytest.raises(ValueError, match="repeated: genre"):
        SOURCES.plus(SourceKind("genre", lambda p: _Named("genre")))


def test_a_kind_must_build_a_source_carrying_its_name() -> None:
    registry = SourceRegistry((SourceKind("mine", lambda p: _Named("other")),))
    with pytest.raises(ValueError, match="'mine' built a source named 'other'"):
        registry.build(None)  # type: ignore[arg-type]  # the kind reads no part


def test_a_kind_finds_its_source_by_name_and_says_which_there_are() -> None:
    sources = [_Named("als"), _Named("genre")]
    assert SourceKind("genre", lambda p: _Named("genre")).among(sources) is sources[1]
    with pytest.raises(LookupError, match=r"no 'history' source among \['als', 'genre'\]"):
        HISTORY_KIND.among(sources)


def test_capabilities_are_read_from_the_kinds() -> None:
    extra: SourceKind[Any] = SourceKind("offline_seen", lambda p: None, proposes_seen=True, needs_index=False)
    registry = SOURCES.plus(extra)
    assert registry.proposing_seen == registry.index_free == {"history", "offline_seen"}
    assert registry.names[-1] == "offline_seen" and SOURCES.names[-1] == "history"  # plus() copies
