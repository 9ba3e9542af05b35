"""`marquee eval-shilling` on a slice of the real data: the attack lifts its title, the defence undoes it."""

from __future__ import annotations

import numpy as np
import pytest

from catalog import load_dataset
from engine import Settings
from evals.shilling import run_shilling, table
from tests.conftest import DATASET

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_attack_lifts_the_title_and_the_defence_takes_the_lift_away(api_settings: Settings) -> None:
    s = api_settings.model_copy(update={"als": api_settings.als.model_copy(update={"iterations": 5})})
    items = load_dataset(DATASET, s.data_dir).interactions.items
    ids, counts = np.unique(items, return_counts=True)
    least_rated = int(ids[np.argmin(counts)])  # the slice keeps only well-rated titles: push its least
    result = run_shilling(s, DATASET, rates=(0.05,), target=least_rated)
    base, [row] = result["no_attack"], result["attacks"]
    assert base["flagged_ordinary"] == 0
    assert row["caught_fakes"] == row["fakes"] > 0 and row["false_positive_rate"] == 0.0
    without, with_ = row["without_defence"], row["with_defence"]
    assert without["trending_rank"] < base["trending_rank"] and without["exposure"] > base["exposure"]
    assert with_["trending_rank"] == base["trending_rank"] and with_["exposure"] == base["exposure"]
    assert without["top_picks_median_rank"] < with_["top_picks_median_rank"] == base["top_picks_median_rank"]
    assert row["place_wilcoxon_p"] < 0.01 and "Wilcoxon" in table(result)


def test_an_unknown_title_is_one_line_naming_it(
    api_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from engine.cli import app

    monkeypatch.setenv("MARQUEE_DATA_DIR", str(api_settings.data_dir))
    result = CliRunner().invoke(app, ["eval-shilling", "--title", "99999999"])
    assert result.exit_code != 0 and "unknown title 99999999" in result.output
