"""Reading a few rows of a CSR matrix without scipy's fancy indexing, whose overhead dominates there."""

from __future__ import annotations

import numpy as np


def row_nonzeros(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in a CSR matrix's `indices`/`data` of `rows`' nonzeros, row after row (a repeated row
    repeats), and each row's count: one gather instead of slicing the matrix."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum()), lengths
