from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from catalog import Interactions
from catalog.matrix import UserItemMatrix


def test_weighting_and_repeated_ratings_keep_the_strongest() -> None:
    inter = Interactions.from_arrays(
        np.array([5, 5, 5, 9]), np.array([300, 300, 100, 100]), np.array([4.0, 2.0, 5.0, 3.0])
    )
    binary = UserItemMatrix.build(inter)
    assert binary.csr.shape == (2, 2)
    assert list(binary.user_ids) == [5, 9] and list(binary.item_ids) == [100, 300]
    assert binary.csr.toarray().tolist() == [[1.0, 1.0], [1.0, 0.0]]
    rating = UserItemMatrix.build(inter, "rating")
    assert rating.csr.toarray().tolist() == [[5.0, 4.0], [3.0, 0.0]]
    implicit = Interactions.from_arrays(np.array([1, 1]), np.array([7, 8]))
    assert UserItemMatrix.build(implicit, "rating").csr.toarray().tolist() == [[1.0, 1.0]]
    with pytest.raises(ValueError, match="valid: binary, rating"):
        UserItemMatrix.build(inter, "bogus")  # type: ignore[arg-type]


def test_fixed_columns_drop_unknown_titles() -> None:
    inter = Interactions.from_arrays(np.array([1, 1]), np.array([7, 99]))
    matrix = UserItemMatrix.build(inter, item_ids=np.array([7, 8]))
    assert matrix.csr.toarray().tolist() == [[1.0, 0.0]]


def test_rows_of_unknown_users_are_zero() -> None:
    matrix = UserItemMatrix.build(Interactions.from_arrays(np.array([5, 9]), np.array([100, 300])))
    rows = matrix.rows([9, 42, 5])
    assert isinstance(rows, sp.csr_matrix)
    assert rows.toarray().tolist() == [[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]
    assert rows.indptr.tolist() == [0, 1, 1, 2]  # nothing stored for the unknown user
    assert matrix.known([9, 42]).tolist() == [True, False]
    assert matrix.columns([300, 999, 100]).tolist() == [1, -1, 0]
    assert matrix.row_of(9) == 1 and matrix.row_of(42) is None
