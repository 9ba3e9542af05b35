"""A data set's present and its titles in artifact order: what every part built over one period shares."""

from __future__ import annotations

from catalog import Dataset, Title


def data_now(dataset: Dataset) -> float:
    """The data set's present: its last interaction (0 when untimed)."""
    inter = dataset.interactions
    return float(inter.timestamps.max()) if inter.timed else 0.0


def catalog_titles(dataset: Dataset) -> list[Title]:
    """Titles in id order: the row order of every per-title array in the artifacts."""
    return [dataset.titles[t] for t in sorted(dataset.titles)]
