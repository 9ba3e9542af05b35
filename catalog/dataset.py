"""A loaded data set: titles, interactions, and where they came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog.interactions import Interactions
from catalog.titles import Title


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    titles: Mapping[int, Title]
    interactions: Interactions
    checksum: str  # sha256 over the source files, for the artifacts manifest
    stats: Mapping[str, int] = field(default_factory=dict)  # e.g. titles with rich text
