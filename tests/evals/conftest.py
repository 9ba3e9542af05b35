"""Shared fixtures for the evals tests."""

from __future__ import annotations

import os

# implicit (and OpenBLAS) read this at import time; one BLAS thread avoids oversubscription.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from catalog.interactions import Interactions  # noqa: E402

BLOCK_A = [100, 101, 102, 103, 104]  # liked by users 0-9
BLOCK_B = [200, 201, 202, 203, 204]  # liked by users 10-29 (so block B is the more popular one)


@pytest.fixture
def two_block() -> tuple[Interactions, dict[int, set[int]]]:
    """Two disjoint taste blocks; each user trains on 4 of their block's 5 titles, the 5th is held out.

    Block B has twice the users, so Popular pushes B titles on block-A users, while any
    co-occurrence model must put the block-A user's held-out A title first (it is the only
    unseen title that co-occurs with anything they watched).
    """
    users, items = [], []
    test: dict[int, set[int]] = {}
    for user in range(30):
        block = BLOCK_A if user < 10 else BLOCK_B
        held_out = block[user % 5]
        test[user] = {held_out}
        for item in block:
            if item != held_out:
                users.append(user)
                items.append(item)
    return Interactions.from_arrays(np.array(users), np.array(items)), test
