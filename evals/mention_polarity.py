"""Train and check the title-mention polarity reader on ReDial's own labels.

ReDial asks each seeker, after the dialogue, whether they liked every movie mentioned. A seeker's message
that names a movie the seeker brought up is therefore a real sentence with a known polarity. This script
embeds each such mention in its message (the movie's name replaced by a placeholder, so the film itself
cannot decide), fits a logistic regression on dialogues of a train fold, and compares it on held-out
dialogues with the cue-word rules the reader uses otherwise. The fitted weights are written to
`assistant/polarity.json` (a few kilobytes), which `assistant.polarity` loads.

    python -m evals.mention_polarity [--redial ../shared/data/redial] [--write]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.polarity import (
    CONFIDENT,
    PLACEHOLDER,
    WEIGHTS_FILE,
    PolarityReader,
    cue_polarity,
    fit_logistic,
)
from engine import TextEmbedder

HELD_OUT = 0.25  # share of dialogues kept out of training
SEED = 11
_AT = re.compile(r"@(\d+)")


@dataclass(frozen=True)
class Example:
    dialogue: int
    text: str  # the seeker's message, the movie named by PLACEHOLDER
    disliked: bool


def examples(path: Path) -> list[Example]:
    """One example per (seeker message, movie the seeker mentioned and answered liked/disliked for)."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        dialogue = json.loads(line)
        answers = dialogue.get("initiatorQuestions") or dialogue.get("respondentQuestions") or {}
        names = {k: re.sub(r"\s*\(\d{4}\)\s*$", "", v.strip()) for k, v in dialogue["movieMentions"].items()}
        seeker = dialogue["initiatorWorkerId"]
        for message in dialogue["messages"]:
            if message["senderWorkerId"] != seeker:
                continue
            for movie in dict.fromkeys(_AT.findall(message["text"])):
                answer = answers.get(movie) or {}
                if answer.get("suggested") != 0 or answer.get("liked") not in (0, 1):
                    continue
                text = _AT.sub(
                    lambda m, target=movie, names=names: (
                        PLACEHOLDER if m.group(1) == target else names.get(m.group(1), "")
                    ),
                    message["text"],
                )
                found.append(Example(number, text, answer["liked"] == 0))
    return found


def _rules(text: str) -> bool:
    lowered = text.lower()
    at = lowered.find(PLACEHOLDER.lower())
    return cue_polarity(lowered, at, at + len(PLACEHOLDER))


def _binomial_p(wins: int, losses: int) -> float:
    """Two-sided sign test on the discordant pairs (McNemar, exact)."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redial", type=Path, default=Path("../shared/data/redial"))
    parser.add_argument("--write", action="store_true", help=f"write the weights to {WEIGHTS_FILE}")
    args = parser.parse_args()
    data = examples(args.redial / "train_partial.jsonl")
    dialogues = sorted({e.dialogue for e in data})
    random.Random(SEED).shuffle(dialogues)
    held = set(dialogues[: int(len(dialogues) * HELD_OUT)])
    train = [e for e in data if e.dialogue not in held]
    test = [e for e in data if e.dialogue in held]
    embedder = TextEmbedder()
    x_train = embedder.encode([e.text for e in train])
    y_train = np.array([e.disliked for e in train], dtype=np.float64)
    weights, bias = fit_logistic(x_train, y_train)
    reader = PolarityReader(weights, bias)
    probability = reader.disliked_probability(embedder.encode([e.text for e in test]))
    learned = probability >= 0.5
    rules = np.array([_rules(e.text) for e in test])
    truth = np.array([e.disliked for e in test])

    def score(guess: np.ndarray) -> dict[str, float]:
        recall_dis = float((guess & truth).sum() / max(1, truth.sum()))
        recall_liked = float((~guess & ~truth).sum() / max(1, (~truth).sum()))
        return {
            "accuracy": round(float((guess == truth).mean()), 3),
            "balanced_accuracy": round((recall_dis + recall_liked) / 2, 3),
            "disliked_recall": round(recall_dis, 3),
            "liked_recall": round(recall_liked, 3),
        }

    # As the reader uses it: cue words decide when they speak; the learned reader only when it is sure.
    combined = rules | (probability >= CONFIDENT)
    rules_right, combined_right = rules == truth, combined == truth
    report = {
        "train_examples": len(train),
        "train_disliked": int(y_train.sum()),
        "held_out_examples": len(test),
        "held_out_disliked": int(truth.sum()),
        "rules": score(rules),
        "learned_at_0.5": score(learned),
        f"rules_or_learned_at_{CONFIDENT}": score(combined),
        "combined_vs_rules_mcnemar_p": round(
            _binomial_p(
                int((combined_right & ~rules_right).sum()), int((rules_right & ~combined_right).sum())
            ),
            4,
        ),
        "thresholds": {f"{t}": score(rules | (probability >= t)) for t in (0.6, 0.7, 0.8, 0.9, 0.95)},
    }
    print(json.dumps(report, indent=2))
    if args.write:
        reader.save(WEIGHTS_FILE, report)
        print(f"wrote {WEIGHTS_FILE}")


if __name__ == "__main__":
    main()
