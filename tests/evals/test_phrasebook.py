"""Templates mined from seeker messages (a tiny synthetic ReDial file): each fact cut into a slot, and
messages whose other words would change its meaning left out."""

from __future__ import annotations

import numpy as np

from catalog.redial import parse_dialogue
from evals.phrasebook import Phrasebook
from tests.redial_data import RECOMMENDER, SEEKER, dialogue


def _book() -> Phrasebook:
    raw = dialogue(
        1,
        [
            (SEEKER, "Hi! I'm looking for a good comedy tonight"),
            (SEEKER, "I love horror movies"),
            (SEEKER, "I don't like horror movies"),  # a genre ruled out, never a wish
            (SEEKER, "Not really in the mood for dramas."),
            (SEEKER, "I'm looking for a comedy with Jim Carrey"),  # another fact: left out
            (RECOMMENDER, "Have you seen @5 ?"),
            (SEEKER, "nah, not my thing"),
            (RECOMMENDER, "How about @6 ?"),
            (SEEKER, "I have seen @6 and loved it"),
            (SEEKER, "I haven't seen @5"),  # not seen: no "seen" template
        ],
        {5: "Big (1988)", 6: "Elf (2003)"},
        seeker_answers={5: (1, 0, 2), 6: (1, 1, 1)},
    )
    return Phrasebook.mine([parse_dialogue(raw)])


def test_each_fact_becomes_a_slot_in_real_words() -> None:
    book = _book()
    assert book.templates["genre"] == ["Hi! I'm looking for a good {x} tonight", "I love {xs}"]
    assert book.templates["exclude"] == ["I don't like {xs}", "Not really in the mood for {xs}."]
    assert book.templates["seen"] == ["I have seen {title} and loved it"]
    assert book.templates["reject"] == ["nah, not my thing"]
    assert not book.has("runtime")


def test_a_filled_slot_reads_as_a_sentence() -> None:
    book = Phrasebook({"genre": ["Looking for a {x}", "I love {xs}!", "any good {xa} films?"]})
    said = {book.say("genre", np.random.default_rng(seed), genre="animated") for seed in range(20)}
    assert said == {"Looking for an animated movie", "I love animated movies!", "any good animated films?"}
