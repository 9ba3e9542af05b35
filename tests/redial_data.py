"""Tiny synthetic ReDial files in the official format, for tests (never the real data)."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

SEEKER, RECOMMENDER = 1, 2


def dialogue(
    cid: int,
    messages: Sequence[tuple[int, str]],
    names: Mapping[int, str],
    seeker_answers: Mapping[int, tuple[int, int, int]] | None = None,
    recommender_answers: Mapping[int, tuple[int, int, int]] | None = None,
) -> dict:
    """One ReDial line: messages are (sender, text with @ids); answers are (suggested, seen, liked)."""

    def questions(answers: Mapping[int, tuple[int, int, int]] | None) -> dict:
        return {
            str(m): dict(zip(("suggested", "seen", "liked"), a, strict=True))
            for m, a in (answers or {}).items()
        }

    return {
        "conversationId": str(cid),
        "initiatorWorkerId": SEEKER,
        "respondentWorkerId": RECOMMENDER,
        "movieMentions": {str(k): v for k, v in names.items()},
        "initiatorQuestions": questions(seeker_answers),
        "respondentQuestions": questions(recommender_answers),
        "messages": [
            {"messageId": i, "senderWorkerId": s, "text": t, "timeOffset": i}
            for i, (s, t) in enumerate(messages)
        ],
    }


def write_redial(
    data_dir: Path, dialogues: Sequence[dict], to_catalog: Mapping[int, tuple[int, str]]
) -> Path:
    """data_dir/redial with the dialogues and a mapping (ReDial id -> (MovieLens id, name))."""
    folder = data_dir / "redial"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "train_partial.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(d) + "\n" for d in dialogues)
    with (folder / "redial_to_movielens.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["redial_id", "movielens_id", "redial_name", "movielens_title"])
        out.writerows([r, m, name, name] for r, (m, name) in to_catalog.items())
    return folder
