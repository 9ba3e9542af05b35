"""Which movies people suggest after which: a co-mention model learned from ReDial's train dialogues.

In ReDial a recommender answers a seeker who has named movies. Counting, over the train dialogues, which
movie a recommender suggests next after each movie named earlier gives P(suggested | named): the
knowledge of real recommenders, which a ratings matrix does not hold ("seen Frozen?" -> "Moana").
Without the ReDial files the assistant works without it (`CoMentions.empty`).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine import Dialogue, Settings, load_redial, redial_available

# Pseudo-count added to each named movie's total: a movie named once says less than one named often.
SMOOTHING = 2.0
# A seeker's liked movie is the strongest evidence; one they disliked points away from its neighbours.
LIKED, UNSAID, DISLIKED = 1.0, 0.7, 0.0
# Count added for any two movies named in one dialogue: sparse "suggested after" counts need this
# denser signal (chosen on a train fold: its Recall@10 rose from 0.14 to 0.18).
TOGETHER = 1.0
log = logging.getLogger("marquee.assistant")


@dataclass(frozen=True)
class CoMentions:
    follows: dict[int, dict[int, float]] = field(default_factory=dict)  # named -> {suggested: P}
    suggested: dict[int, int] = field(default_factory=dict)  # how often recommenders suggested each

    @classmethod
    def empty(cls) -> CoMentions:
        return cls()

    def __bool__(self) -> bool:
        return bool(self.follows)

    @classmethod
    def learn(cls, dialogues: Iterable[Dialogue], to_catalog: Mapping[int, int]) -> CoMentions:
        """Count (named earlier -> suggested now) and pairs named in one dialogue, in catalog ids;
        each named movie's counts become probabilities."""
        pairs: dict[int, Counter[int]] = defaultdict(Counter)
        suggested: Counter[int] = Counter()
        for dialogue in dialogues:
            named: dict[int, float] = {}  # catalog id -> evidence weight, in order of naming
            for message in dialogue.messages:
                before = dict(named)
                for redial_id in message.movies():
                    movie = to_catalog.get(redial_id)
                    if movie is None or movie in named:
                        continue
                    named[movie] = _weight(dialogue, redial_id)
                    if not message.seeker:
                        suggested[movie] += 1
                        for earlier, weight in before.items():
                            pairs[earlier][movie] += weight
            for movie in named:  # movies talked about together, in either order, are related too
                for other in named:
                    if other != movie:
                        pairs[movie][other] += TOGETHER
        follows = {
            earlier: {m: n / (sum(counts.values()) + SMOOTHING) for m, n in counts.items()}
            for earlier, counts in pairs.items()
        }
        return cls(follows=follows, suggested=dict(suggested))

    @classmethod
    def for_settings(cls, settings: Settings, titles: Iterable[int]) -> CoMentions:
        """Learned from the ReDial train fold under the data folder (the validation fold is left out, so
        `marquee eval-redial` measures unseen dialogues); empty when ReDial is not there."""
        if not redial_available(settings.data_dir):
            return cls.empty()
        redial = load_redial(settings.data_dir)
        known = set(titles)
        to_catalog = {r: m for r, m in redial.to_catalog.items() if m in known}
        model = cls.learn(redial.split("train", seed=settings.seed), to_catalog)
        log.info("co-mentions learned from ReDial: %d movies named", len(model.follows))
        return model

    def scores(self, named: Mapping[int, float]) -> dict[int, float]:
        """Suggestion scores for the movies a conversation has named (id -> evidence weight)."""
        out: dict[int, float] = defaultdict(float)
        for movie, weight in named.items():
            for other, p in self.follows.get(movie, {}).items():
                out[other] += weight * p
        return out


def _weight(dialogue: Dialogue, redial_id: int) -> float:
    answer = dialogue.answers.get(redial_id)
    if answer is None or answer.liked == 2:
        return UNSAID
    return LIKED if answer.liked == 1 else DISLIKED
