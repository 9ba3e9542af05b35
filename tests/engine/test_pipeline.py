"""End to end on a real slice of ml-latest-small: build, serve recommendations, evaluate."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog import Event, EventKind
from engine import (
    ArtifactsMissingError,
    Manifest,
    Settings,
    UnknownTitleError,
    UnknownUserError,
    assemble,
    build,
)
from engine.cli import app
from evals.offline import run_eval
from retrieval import IndexUnavailableError, PoolFusion

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def settings(small_slice_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = Settings(
        data_dir=small_slice_dir,
        artifacts_dir=tmp_path_factory.mktemp("artifacts"),
        state_dir=tmp_path_factory.mktemp("state"),
    )
    build(s, "ml-latest-small")
    return s


def test_build_writes_a_manifest_with_checksum_versions_and_files(settings: Settings) -> None:
    folder = settings.dataset_artifacts("ml-latest-small")
    manifest = Manifest.read(folder)
    assert len(manifest.data_checksum) == 64
    assert {"implicit", "qdrant-edge-py", "sentence-transformers"} <= set(manifest.versions)
    assert manifest.parameters["index"] == "qdrant-edge"
    assert (folder / "als.npz").is_file() and (folder / "qdrant").is_dir()
    assert manifest.stats["titles"] == 300


def test_recommendations_are_unseen_and_explained(settings: Settings) -> None:
    engine = assemble(settings, "ml-latest-small")
    try:
        context = engine.context_for(1)
        picks = engine.recommend(context, k=10)
        assert len(picks) == 10
        seen = context.history.seen()
        assert not {p.title.id for p in picks} & seen
        assert all(p.explanation and p.sources for p in picks)
        with pytest.raises(UnknownUserError, match="valid: 1..610"):
            engine.history(100_000)
    finally:
        engine.close()


def test_recommend_cli_prints_titles_with_source_and_reason(settings: Settings) -> None:
    env = {
        "MARQUEE_DATA_DIR": str(settings.data_dir),
        "MARQUEE_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "MARQUEE_STATE_DIR": str(settings.state_dir),
    }
    result = CliRunner().invoke(
        app, ["recommend", "--dataset", "ml-latest-small", "--user", "1", "--k", "5"], env=env
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Top 5 for user 1 of ml-latest-small:"
    assert sum("(sources: " in line for line in lines) == 5
    bad = CliRunner().invoke(app, ["recommend", "--user", "99999"], env=env)
    assert bad.exit_code == 2 and "unknown user 99999" in bad.stderr


def test_eval_reports_every_system_and_source(settings: Settings) -> None:
    assert settings.ranker.short_histories  # on by default: the report's training counts show them
    result = run_eval(settings, "ml-latest-small", "random", max_users=60, diversity=(0.0, 0.8))
    assert result["users"] == 60
    assert set(result["systems"]) == {
        "popular",
        "itemknn",
        "ease",
        "vae",
        "als",
        "content",
        "ranker",
        "pipeline@div0",
        "pipeline",
    }
    for figures in result["systems"].values():
        assert set(figures) == {
            "ndcg@10",
            "recall@10",
            "recall@50",
            "map@10",
            "coverage",
            "novelty",
            "ild@10",
            "long_tail@10",
        }
        assert 0.0 <= figures["ndcg@10"] <= 1.0
        assert 0.0 <= figures["ild@10"] <= 2.0 and 0.0 <= figures["long_tail@10"] <= 1.0
    assert result["ranker"]["objective"] in ("rank:ndcg", "rank:pairwise")
    # Whole histories train one model; short profiles (a new profile's first picks) and whole histories
    # train the second, which scores profiles of fewer than `short_model_below` titles.
    short = result["ranker"]["short_profiles"]
    assert result["ranker"]["training_profiles"] == result["ranker"]["training_users"]
    assert short["training_profiles"] > short["training_users"] and short["below"] == 10
    # A bag of models per ranker (settings.ranker.bag), each stopped early on its own held-out users.
    for metrics in (result["ranker"], short):
        members = metrics["members"]
        assert len(members) == settings.ranker.bag == 3 and all(m["trees"] >= 1 for m in members)
    candidates = result["candidates"]
    per_source = candidates["per_source"]
    assert {"als", "ease", "content", "similar", "genre", "popular", "trending", "new"} <= set(per_source)
    assert all(0.0 <= r <= 1.0 for recalls in per_source.values() for r in recalls.values())
    assert candidates["fused"]["recall@500"] > 0 and 0.0 < candidates["pool"] <= 1.0
    assert candidates["pooling"] == "learned fusion"
    significance = result["significance"]
    assert significance["best_single"] in ("popular", "itemknn", "ease", "als", "content")
    assert set(significance["against_best"]) == {"ranker", "pipeline@div0", "pipeline"}
    lo, hi = significance["ndcg@10_ci"]["ease"]
    assert lo <= result["systems"]["ease"]["ndcg@10"] <= hi
    new_profiles = result["cold"]["new profiles with 3 titles"]
    assert new_profiles["users"] == 60
    # The blend's cost is visible for new profiles too: the ranker's own order and no diversity.
    assert {"popular", "ranker", "pipeline@div0", "pipeline"} <= set(new_profiles["ndcg@10"])
    assert "Querying candidate sources" in result["stage_seconds"]
    assert result["systems"]["als"]["ndcg@10"] > 0
    # More diversity weight must not make the lists less diverse.
    sweep = {row["diversity"]: row for row in result["diversity_sweep"]}
    assert sweep[0.8]["ild@10"] >= sweep[0.0]["ild@10"]


def test_rows_hide_seen_and_disliked_titles_and_explain_everything(settings: Settings) -> None:
    engine = assemble(settings, "ml-latest-small")
    try:
        base = engine.context_for(1)
        seen = set(int(t) for t in base.history.items)
        disliked = int(engine.candidates(base).ids[0])  # a title the engine would otherwise propose
        history = replace(
            base.history, disliked=frozenset({disliked}), in_progress=(int(base.history.items[-1]),)
        )
        rows = engine.rows(replace(base, history=history))
        assert rows and not rows.degraded
        kinds = [r.kind for r in rows]
        assert kinds[0] == "continue_watching" and "top_picks" in kinds
        for row in rows:
            for item in row.items:
                assert item.title_id != disliked
                assert item.explanation and item.reason["source"]
                assert item.artwork in ("title_card", "cast", "mood", "minimal")
                if row.kind not in ("watch_again", "continue_watching"):
                    assert item.title_id not in seen, row.kind
    finally:
        engine.close()


def test_artifacts_from_an_older_build_ask_for_a_rebuild(settings: Settings, tmp_path: Path) -> None:
    old = Settings(data_dir=settings.data_dir, artifacts_dir=tmp_path, state_dir=settings.state_dir)
    shutil.copytree(settings.dataset_artifacts("ml-latest-small"), old.dataset_artifacts("ml-latest-small"))
    (old.dataset_artifacts("ml-latest-small") / "item_similarity.npz").unlink()
    with pytest.raises(
        ArtifactsMissingError, match="lack item_similarity.npz.*marquee build --dataset ml-latest-small"
    ):
        assemble(old, "ml-latest-small")


def test_the_build_learns_how_to_pool_and_a_build_without_it_pools_by_quotas(
    settings: Settings, tmp_path: Path
) -> None:
    folder = settings.dataset_artifacts("ml-latest-small")
    fusion = PoolFusion.load(folder / "pool_fusion.json")
    assert "pool_fusion.json" in Manifest.read(folder).files
    # The sources of new titles it was trained on, asked as deep as `fusion_depths` says.
    assert {"als", "ease", "popular"} <= set(fusion.sources) and "history" not in fusion.sources
    assert fusion.depth_of("ease") == settings.ranker.fusion_depths["ease"]
    assert fusion.depth_of("popular") == settings.ranker.candidates_per_source
    engine = assemble(settings, "ml-latest-small")
    try:
        served = engine.candidates(engine.context_for(1))
    finally:
        engine.close()
    copy = Settings(data_dir=settings.data_dir, artifacts_dir=tmp_path, state_dir=settings.state_dir)
    shutil.copytree(folder, copy.dataset_artifacts("ml-latest-small"))
    (copy.dataset_artifacts("ml-latest-small") / "pool_fusion.json").unlink()
    older = assemble(copy, "ml-latest-small")
    try:
        quotas = older.candidates(older.context_for(1))
        assert len(older.recommend(older.context_for(1), k=5)) == 5
    finally:
        older.close()
    # Same sources, another pool: the fused one in the learned scores' order, the older in RRF's.
    assert served.ids.tolist() != quotas.ids.tolist()
    assert list(served.scores) == sorted(served.scores, reverse=True)


def test_missing_ranker_degrades_to_candidate_order(settings: Settings, tmp_path: Path) -> None:
    copy = Settings(data_dir=settings.data_dir, artifacts_dir=tmp_path, state_dir=settings.state_dir)
    shutil.copytree(settings.dataset_artifacts("ml-latest-small"), copy.dataset_artifacts("ml-latest-small"))
    shutil.rmtree(copy.dataset_artifacts("ml-latest-small") / "ranker")
    engine = assemble(copy, "ml-latest-small")
    try:
        picks = engine.recommend(engine.context_for(1), k=5)
        assert len(picks) == 5 and picks.ranker_fallback and picks.degraded
        assert [r.kind for r in engine.rows(engine.context_for(1))]
    finally:
        engine.close()


def test_search_similar_and_post_watch(settings: Settings) -> None:
    engine = assemble(settings, "ml-latest-small")
    try:
        context = engine.context_for(1)
        titles = engine.titles()
        toy_story = next(t for t in titles.values() if t.name == "Toy Story")
        found = engine.search("toy stroy", context, k=5)  # a typo still finds it by name
        assert found[0].title.id == toy_story.id and found[0].sources[0] == "title_match"
        assert engine.search("   ", context) == []
        more = engine.similar(toy_story.id, context, k=8)
        assert more and toy_story.id not in {r.title.id for r in more}
        assert all(r.explanation == "More like Toy Story" for r in more)
        assert not {r.title.id for r in more} & context.history.seen()
        after = engine.post_watch(context, toy_story.id, k=5)
        assert after and toy_story.id not in {r.title.id for r in after}
        with pytest.raises(UnknownTitleError, match="unknown title 999999999"):
            engine.similar(999_999_999)
    finally:
        engine.close()


def test_feedback_changes_a_profiles_rows_at_once(settings: Settings, tmp_path: Path) -> None:
    live = Settings(data_dir=settings.data_dir, artifacts_dir=settings.artifacts_dir, state_dir=tmp_path)
    engine = assemble(live, "ml-latest-small")
    try:
        account = engine.accounts().create_account("household")
        profile = engine.accounts().create_profile(account.id, "Ana", maturity_limit="PG-13")
        cold = engine.rows(engine.profile_context(profile.id))
        assert [r.kind for r in cold] and not any(r.kind == "continue_watching" for r in cold)
        top = cold[0].items[0].title_id
        started, finished = top, cold[0].items[1].title_id
        disliked = cold[0].items[2].title_id
        stored = engine.record(
            [
                Event("a", profile.id, started, EventKind.PLAY, ts=1.0),
                Event("b", profile.id, finished, EventKind.COMPLETE, ts=2.0),
                Event("c", profile.id, disliked, EventKind.THUMB_DOWN, ts=3.0),
                Event("c", profile.id, disliked, EventKind.THUMB_DOWN, ts=3.0),
            ]
        )
        assert stored == [True, True, True, False]
        rows = engine.rows(engine.profile_context(profile.id))
        assert rows[0].kind == "continue_watching" and rows[0].items[0].title_id == started
        shown = {i.title_id for r in rows for i in r.items}
        assert disliked not in shown
        assert finished not in {i.title_id for r in rows if r.kind != "watch_again" for i in r.items}
        maturity = {engine._parts.stage2.business[i].maturity for i in shown}
        assert maturity <= {"G", "PG", "PG-13"}
    finally:
        engine.close()


def test_an_index_known_down_is_not_asked_and_no_query_is_embedded(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the index says it is down, every request goes straight to in-memory popularity: no text is
    embedded and the index is not called, and each answer carries the reason. Once it is up, neither."""
    engine = assemble(settings, "ml-latest-small")
    try:
        index = engine._parts.index
        reason = "title index unreachable after 3 attempts, retrying: connection refused"
        down: list[str | None] = [reason]
        asked: list[str] = []
        embedded: list[object] = []
        monkeypatch.setattr(index, "known_down", lambda: down[0])
        for method in ("search", "top_by", "vectors"):
            real = getattr(index, method)

            def counted(*args: object, _real: Any = real, _name: str = method, **kwargs: object) -> Any:
                asked.append(_name)
                return _real(*args, **kwargs)

            monkeypatch.setattr(index, method, counted)
        encode = engine._parts.embedder.encode

        def counted_encode(texts: list[str]) -> Any:
            embedded.append(texts)
            return encode(texts)

        monkeypatch.setattr(engine._parts.embedder, "encode", counted_encode)
        context = engine.context_for(1)
        moody = replace(context, constraints=replace(context.constraints, mood="dark and funny"))
        anchor = int(context.history.items[-1])
        answers = {
            "search": engine.search("a heist that goes wrong in the desert", context, k=10),
            "mood": engine.recommend(moody, k=5),
            "recommend": engine.recommend(context, k=5),
            "similar": engine.similar(anchor, context, k=5),
            "rows": engine.rows(context),
        }
        assert asked == [] and embedded == []
        for name, found in answers.items():
            assert found.degraded and found.fallback == f"title index unavailable: {reason}", name
        assert all(answers[name] for name in ("mood", "recommend", "similar", "rows"))
        down[0] = None
        back = engine.search("a heist that goes wrong in the desert", context, k=10)
        assert back.fallback is None and embedded and asked
    finally:
        engine.close()


def test_unreachable_index_serves_filtered_popular_rows(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = assemble(settings, "ml-latest-small")
    try:

        def down(**_: object) -> None:
            raise IndexUnavailableError("Qdrant at http://qdrant:6333 is unavailable: connection refused")

        for method in ("search", "top_by", "vectors"):
            monkeypatch.setattr(engine._parts.index, method, down)
        context = engine.context_for(1)
        rows = engine.rows(context)
        assert rows and rows.fallback and "unavailable" in rows.fallback
        shown = [i for r in rows for i in r.items]
        assert shown
        unseen_rows = [r for r in rows if r.kind not in ("watch_again", "continue_watching")]
        assert not {i.title_id for r in unseen_rows for i in r.items} & context.history.seen()
    finally:
        engine.close()
