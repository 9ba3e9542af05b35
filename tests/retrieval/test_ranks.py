import numpy as np

from retrieval import count_above


def test_counts_strictly_greater_values_with_ties() -> None:
    values = np.array([0.5, 0.1, 0.9, 0.5, 0.3])
    thresholds = np.array([0.5, 1.0, 0.0, 0.3, 0.49])
    assert count_above(values, thresholds).tolist() == [1, 0, 5, 3, 3]


def test_matches_a_pairwise_count_on_random_data() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 50, 2_000).astype(np.float32)  # many ties
    thresholds = rng.integers(-5, 55, 300).astype(np.float64)
    expected = (values[None, :] > thresholds[:, None]).sum(axis=1)
    assert np.array_equal(count_above(values, thresholds), expected)


def test_no_values_means_nothing_above() -> None:
    assert count_above(np.array([]), np.array([1.0, -1.0])).tolist() == [0, 0]
