"""ReDial: real crowd-worker recommendation dialogues (Li et al., NeurIPS 2018), read for evaluation and
for learning which movies people suggest after which.

Files (data_dir/redial, see its README): `train_partial.jsonl` (dialogues of the official train split),
`redial_to_movielens.csv` (ReDial movie id -> MovieLens id). Validation dialogues are carved from the
train file with a fixed seed; the official test split is never read here.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from catalog.errors import MissingDataError

REDIAL_DIR = "redial"
DIALOGUES_FILE = "train_partial.jsonl"
MAPPING_FILE = "redial_to_movielens.csv"
VALID_FRACTION = 0.15
SPLITS = ("train", "valid")
_AT_ID = re.compile(r"@(\d+)")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Answer:
    """The seeker's answers about one movie (0 no, 1 yes, 2 did not say)."""

    suggested: int  # 1: the recommender suggested it, 0: the seeker mentioned it
    seen: int
    liked: int


@dataclass(frozen=True)
class Message:
    seeker: bool  # who wrote it: the seeker (the viewer) or the recommender (the assistant's role)
    text: str  # raw, movies written as @<redial id>

    def movies(self) -> list[int]:
        """ReDial ids this message names, in order, each once."""
        return list(dict.fromkeys(int(m) for m in _AT_ID.findall(self.text)))


@dataclass(frozen=True)
class Dialogue:
    id: str
    messages: tuple[Message, ...]
    names: dict[int, str]  # ReDial id -> "Name (Year)" as this dialogue spells it
    answers: dict[int, Answer] = field(default_factory=dict)

    def rendered(self, message: Message) -> str:
        """The message as people read it: each @id replaced by the movie's name."""

        def name(m: re.Match[str]) -> str:
            return _SPACES.sub(" ", self.names.get(int(m.group(1)), "a movie")).strip()

        return _AT_ID.sub(name, message.text)


@dataclass(frozen=True)
class ReDial:
    dialogues: tuple[Dialogue, ...]
    to_catalog: dict[int, int]  # ReDial id -> MovieLens id

    def split(self, name: str, *, seed: int = 42, valid_fraction: float = VALID_FRACTION) -> list[Dialogue]:
        """The dialogues of one fold: `valid` is a seeded `valid_fraction` of the train file, `train`
        the rest. The same seed always gives the same folds."""
        if name not in SPLITS:
            raise ValueError(f"unknown ReDial split {name!r}; valid: {', '.join(SPLITS)}")
        return carve(list(self.dialogues), seed=seed, fraction=valid_fraction)[name == "valid"]


def carve(dialogues: list[Dialogue], *, seed: int, fraction: float) -> tuple[list[Dialogue], list[Dialogue]]:
    """(rest, held out): a seeded `fraction` of the dialogues held out, by dialogue, order kept."""
    order = np.random.default_rng(seed).permutation(len(dialogues))
    held = set(order[: round(len(dialogues) * fraction)].tolist())
    return (
        [d for i, d in enumerate(dialogues) if i not in held],
        [d for i, d in enumerate(dialogues) if i in held],
    )


def redial_dir(data_dir: Path) -> Path:
    return Path(data_dir) / REDIAL_DIR


def available(data_dir: Path) -> bool:
    folder = redial_dir(data_dir)
    return (folder / DIALOGUES_FILE).is_file() and (folder / MAPPING_FILE).is_file()


def load_redial(data_dir: Path) -> ReDial:
    """The dialogues and the movie mapping under data_dir/redial."""
    folder = redial_dir(data_dir)
    for name in (DIALOGUES_FILE, MAPPING_FILE):
        if not (folder / name).is_file():
            raise MissingDataError(folder / name, dataset="redial")
    with (folder / DIALOGUES_FILE).open(encoding="utf-8") as f:
        dialogues = tuple(parse_dialogue(json.loads(line)) for line in f if line.strip())
    with (folder / MAPPING_FILE).open(encoding="utf-8", newline="") as f:
        to_catalog = {int(row["redial_id"]): int(row["movielens_id"]) for row in csv.DictReader(f)}
    return ReDial(dialogues=dialogues, to_catalog=to_catalog)


def parse_dialogue(raw: dict[str, Any]) -> Dialogue:
    """One line of the ReDial format; the seeker's own answers are preferred to the recommender's."""
    seeker = raw["initiatorWorkerId"]
    messages = tuple(Message(m["senderWorkerId"] == seeker, m["text"]) for m in raw["messages"])
    answers: dict[int, Answer] = {}
    for side in ("respondentQuestions", "initiatorQuestions"):  # later sides overwrite: the seeker's win
        questions = raw.get(side) or {}
        if isinstance(questions, dict):
            for movie, a in questions.items():
                answers[int(movie)] = Answer(int(a["suggested"]), int(a["seen"]), int(a["liked"]))
    names = {int(k): v for k, v in (raw.get("movieMentions") or {}).items() if v}
    return Dialogue(id=str(raw["conversationId"]), messages=messages, names=names, answers=answers)
