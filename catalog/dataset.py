"""A loaded data set: titles, interactions, and where they came from."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from catalog.interactions import Interactions
from catalog.titles import Title


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    titles: Mapping[int, Title]
    interactions: Interactions
    checksum: str  # sha256 over the source files, for the artifacts manifest
    stats: Mapping[str, int] = field(default_factory=dict)  # e.g. titles with rich text


def files_sha256(paths: Iterable[Path]) -> str:
    """One digest over every source file's name and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()
