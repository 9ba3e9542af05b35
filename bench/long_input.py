"""Cost of the largest chat request the API takes, against a plain one: a 4,000-character message, and a
client history of 100 messages of that length, each answered by the offline assistant.

    .venv/bin/python bench/long_input.py [--dataset ml-latest-small] [--repeats 5]

Needs `marquee build` first. Prints the median seconds per turn and the ratio to a short message;
asserts nothing. Conversations go to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from assistant import Assistant, Viewer  # noqa: E402
from assistant.state import ConversationStore  # noqa: E402
from engine import Settings, assemble  # noqa: E402

SHORT = "a funny heist film, nothing too violent"
LONG = ("I would like a funny heist film with a clever twist, nothing too violent, seen Heat already. " * 50)[
    :4000
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    engine = assemble(Settings(), args.dataset)
    with tempfile.TemporaryDirectory() as folder:
        helper = Assistant(engine, ConversationStore(Path(folder) / "c.sqlite"))
        helper.warm_up()
        # A MovieLens user's history, nothing recorded: the bench writes only its temporary conversations.
        viewer = Viewer("bench", lambda: engine.context_for(1))
        cases = {
            "short message": lambda: helper.respond(viewer, SHORT),
            "4,000-character message": lambda: helper.respond(viewer, LONG),
            "100 messages of 4,000 characters": lambda: helper.respond(viewer, LONG, earlier=[LONG] * 99),
        }
        times: dict[str, float] = {}
        for name, turn in cases.items():
            turn()  # first call warms caches
            runs = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                turn()
                runs.append(time.perf_counter() - started)
            times[name] = statistics.median(runs)
        helper.close()
    base = times["short message"]
    for name, seconds in times.items():
        print(f"{name:36s} {seconds * 1000:8.0f} ms  {seconds / base:5.1f}x")


if __name__ == "__main__":
    main()
