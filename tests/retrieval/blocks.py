"""A known-answer world: two taste blocks whose right answers are provable."""

from __future__ import annotations

import numpy as np

from catalog import Interactions, Title

# Users 0-19 watch only titles 100-104 ("space"), users 20-39 only titles 200-204 ("romance").
SPACE = (100, 101, 102, 103, 104)
ROMANCE = (200, 201, 202, 203, 204)


def block_interactions() -> Interactions:
    rng = np.random.default_rng(7)
    users, items = [], []
    for user in range(40):
        block = SPACE if user < 20 else ROMANCE
        for item in rng.choice(block, size=4, replace=False):
            users.append(user)
            items.append(int(item))
    ts = np.arange(len(users), dtype=np.int64) * 1000
    return Interactions.from_arrays(np.array(users), np.array(items), np.full(len(users), 5.0), ts)


def block_titles() -> dict[int, Title]:
    titles = {}
    for i in SPACE:
        titles[i] = Title(
            i, f"Space Saga {i}", 1990 + i % 10, ("Sci-Fi",), overview="Astronauts explore deep space."
        )
    for i in ROMANCE:
        titles[i] = Title(
            i, f"Love Story {i}", 2000 + i % 10, ("Romance",), overview="Two people fall in love."
        )
    return titles
