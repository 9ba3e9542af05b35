"""Shared fixtures: where the real data lives, and each data set loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import Dataset, MissingDataError, load_dataset
from tests.conftest import real_data_dir


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = real_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path}; set MARQUEE_DATA_DIR")
    return path


def _load(name: str, data_dir: Path) -> Dataset:
    try:
        return load_dataset(name, data_dir)
    except MissingDataError as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def latest_small(data_dir: Path) -> Dataset:
    return _load("ml-latest-small", data_dir)


@pytest.fixture(scope="session")
def ml_1m(data_dir: Path) -> Dataset:
    return _load("ml-1m", data_dir)


@pytest.fixture(scope="session")
def ml_100k(data_dir: Path) -> Dataset:
    return _load("ml-100k", data_dir)
