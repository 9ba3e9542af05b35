"""Time recording a page's impressions in the bandits' counts, one transaction per impression against
one per batch (`update_many`, what the events endpoint does), on SQLite and on a throwaway PostgreSQL
(tests/postgres.py; skipped when its binaries are absent). Prints medians and the ratio; asserts nothing.

    .venv/bin/python bench/bandit_counts.py [--impressions 40] [--repeats 11]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog.database import Database  # noqa: E402
from ranker import ArtworkBandit  # noqa: E402
from ranker.beta_counts import PostgresBetaCounts, SQLiteBetaCounts  # noqa: E402
from tests import postgres  # noqa: E402

Trial = tuple[int, str, str, bool]


def median_ms(fn: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def compare(name: str, bandit: ArtworkBandit, trials: list[Trial], repeats: int) -> None:
    def one_by_one() -> None:
        for title_id, segment, variant, reward in trials:
            bandit.update(title_id=title_id, segment=segment, variant=variant, reward=reward)

    single = median_ms(one_by_one, repeats)
    batched = median_ms(lambda: bandit.update_many(trials), repeats)
    print(
        f"{name:10s} {len(trials)} impressions: one by one {single:7.1f} ms, "
        f"one batch {batched:6.1f} ms, ratio {single / batched:5.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--impressions", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    trials = [(t, "dark", "cast", t % 5 == 0) for t in range(args.impressions)]
    with (
        tempfile.TemporaryDirectory() as folder,
        ArtworkBandit.over(SQLiteBetaCounts(Path(folder) / "bandits.sqlite")) as bandit,
    ):
        compare("sqlite", bandit, trials, args.repeats)
    binaries = postgres.binaries()
    if binaries is None:
        print("postgresql skipped: no PostgreSQL binaries (apt-get install postgresql, or MARQUEE_PG_BIN)")
        return
    with postgres.server(binaries) as url, Database(postgres.fresh_database(url)) as database:
        compare("postgresql", ArtworkBandit.over(PostgresBetaCounts(database)), trials, args.repeats)


if __name__ == "__main__":
    main()
