"""A candidate's rank among a profile's unseen titles, as a count of the titles scored above it."""

from __future__ import annotations

import numpy as np


def count_above(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How many `values` exceed each threshold. Sorts the few hundred thresholds, not the thousands of
    values: each value is placed among them, and the counts are summed from the top."""
    order = np.argsort(thresholds, kind="stable")
    below = np.searchsorted(thresholds[order], values, side="left")  # thresholds each value exceeds
    exceeding = np.cumsum(np.bincount(below, minlength=len(thresholds) + 1)[::-1])[::-1]
    counts = np.empty(len(thresholds), np.int64)
    counts[order] = exceeding[1:]
    return counts
