"""The ReDial loader on a tiny synthetic file: names, the seeker's answers, the seeded folds."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import MissingDataError
from catalog.redial import available, load_redial
from tests.redial_data import RECOMMENDER, SEEKER, dialogue, write_redial

NAMES = {11: "Frozen  (2013)", 22: "Moana (2016)"}


def _write(root: Path, n: int = 20) -> None:
    lines = [
        dialogue(
            cid,
            [(SEEKER, "I loved @11 !"), (RECOMMENDER, "Then try @22 and @11")],
            NAMES,
            seeker_answers={11: (0, 1, 1), 22: (1, 0, 2)},
            recommender_answers={11: (0, 1, 0)},
        )
        for cid in range(n)
    ]
    write_redial(root, lines, {11: (1, "Frozen (2013)")})


def test_messages_read_with_names_movies_and_the_seekers_answers(tmp_path: Path) -> None:
    _write(tmp_path)
    redial = load_redial(tmp_path)
    first = redial.dialogues[0]
    assert [m.seeker for m in first.messages] == [True, False]
    assert first.rendered(first.messages[1]) == "Then try Moana (2016) and Frozen (2013)"
    assert first.messages[1].movies() == [22, 11]
    assert first.answers[11].liked == 1  # the seeker's answer wins over the recommender's 0
    assert redial.to_catalog == {11: 1}


def test_validation_is_a_seeded_disjoint_fold(tmp_path: Path) -> None:
    _write(tmp_path, n=40)
    redial = load_redial(tmp_path)
    valid = {d.id for d in redial.split("valid", seed=7)}
    train = {d.id for d in redial.split("train", seed=7)}
    assert len(valid) == 6 and not valid & train and len(valid | train) == 40
    assert valid == {d.id for d in redial.split("valid", seed=7)}
    assert valid != {d.id for d in redial.split("valid", seed=8)}
    with pytest.raises(ValueError, match="valid: train, valid"):
        redial.split("test")


def test_missing_files_say_which(tmp_path: Path) -> None:
    assert not available(tmp_path)
    with pytest.raises(MissingDataError, match="train_partial.jsonl"):
        load_redial(tmp_path)
