"""`marquee`: build, recommend, fetch data; other packages plug in more commands."""

from __future__ import annotations

import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

# Must be set before numpy/OpenBLAS load: implicit wants a single-threaded BLAS (ENVIRONMENT.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from catalog import DATASETS, CatalogError, ImportFailed, dataset_dir, import_dataset  # noqa: E402
from catalog.fetch import EXPECTED_SHA256, fetch  # noqa: E402
from engine.artifacts import package_version  # noqa: E402
from engine.assembly import EVENTS_FILE, assemble  # noqa: E402
from engine.build import build  # noqa: E402
from engine.commands import checked_dataset, clean_errors, fail, settings  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.experiments import format_report, report  # noqa: E402
from engine.logs import configure_logging  # noqa: E402
from engine.progress import Bars  # noqa: E402

app = typer.Typer(
    name="marquee",
    help="Marquee: a conversational two-stage recommender.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Get data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
experiment_app = typer.Typer(help="Experiments: A/B arms and interleaving.", no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")


def _print_version(asked: bool) -> None:
    if asked:
        print(f"marquee {package_version()}")
        raise typer.Exit()


@app.callback()
def main(
    _version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="print the version and exit"),
    ] = False,
) -> None:
    """Marquee: a conversational two-stage recommender. Settings come from MARQUEE_* variables and `.env`."""
    try:
        s = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "MARQUEE_" + "__".join(str(part).upper() for part in first["loc"])
        raise fail(f"invalid setting {name}: {first['msg']}") from None
    configure_logging(s.log_level, json_lines=s.log_json)


DatasetOpt = Annotated[
    str, typer.Option("--dataset", "-d", help="ml-latest-small, ml-1m, ml-100k or one you imported")
]


@app.command("build")
@clean_errors
def build_command(dataset: DatasetOpt = "ml-latest-small") -> None:
    """Embed titles, fit ALS, fill Qdrant and write versioned artifacts."""
    s = settings()
    with Bars() as bars:
        manifest = build(s, checked_dataset(dataset), bars)
    folder = s.dataset_artifacts(dataset)
    print(f"built {dataset} into {folder} in {manifest.stats['build_seconds']} s")
    print(f"titles {manifest.stats.get('titles')}, with rich text {manifest.stats.get('rich_text')}")


@app.command("recommend")
@clean_errors
def recommend_command(
    user: Annotated[int, typer.Option("--user", "-u", help="a user id of the data set")],
    dataset: DatasetOpt = "ml-latest-small",
    k: Annotated[int, typer.Option("--k", min=1, max=200)] = 10,
) -> None:
    """Print a personalized list for a data set user, with each title's source and reason."""
    engine = assemble(settings(), checked_dataset(dataset))
    try:
        picks = engine.recommend(engine.context_for(user), k=k)
        print(f"Top {len(picks)} for user {user} of {dataset}:")
        for rank, pick in enumerate(picks, 1):
            genres = ", ".join(pick.title.genres[:3])
            print(f"{rank:>3}. {pick.title.display_name} [{genres}]")
            print(f"     {pick.explanation}  (sources: {', '.join(pick.sources)})")
    finally:
        engine.close()


@app.command("rows")
@clean_errors
def rows_command(
    user: Annotated[int, typer.Option("--user", "-u", help="a user id of the data set")],
    dataset: DatasetOpt = "ml-latest-small",
    items: Annotated[int, typer.Option("--items", min=1, max=50, help="titles shown per row")] = 6,
) -> None:
    """Print a user's homepage rows with each title's explanation and chosen artwork variant."""
    engine = assemble(settings(), checked_dataset(dataset))
    try:
        rows = engine.rows(engine.context_for(user))
        mode = "candidate order (ranker unavailable)" if rows.ranker_fallback else "ranked"
        print(f"Homepage for user {user} of {dataset} ({len(rows)} rows, {mode}):")
        for row in rows:
            print(f"\n== {row.heading} ==")
            for item in row.items[:items]:
                year = f" ({item.year})" if item.year else ""
                print(f"  {item.name}{year}  [{item.artwork}]  {item.explanation}")
    finally:
        engine.close()


@data_app.command("fetch")
@clean_errors
def fetch_command(
    name: Annotated[str, typer.Argument(help="data set to download")],
    url: Annotated[str | None, typer.Option(help="mirror of the official archive")] = None,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="do nothing when the data set is already on disk")
    ] = False,
) -> None:
    """Download and verify a public MovieLens archive into MARQUEE_DATA_DIR."""
    target_dir = Settings().data_dir
    if if_missing:
        try:
            print(f"using {name} from {dataset_dir(name, target_dir)}; nothing fetched")
            return
        except CatalogError:
            pass  # not on disk (or not a known data set): fetch it, or say what can be fetched
    if name not in EXPECTED_SHA256:
        raise fail(f"cannot fetch {name!r}; fetchable: {', '.join(sorted(EXPECTED_SHA256))}")
    with Bars() as bars, bars.stage(f"Downloading {name} (bytes)") as advance:
        last = 0

        def report(done: int, _total: int | None) -> None:
            nonlocal last
            advance(done - last)
            last = done

        path = fetch(name, target_dir, url=url or os.environ.get("MARQUEE_DATA_URL"), progress=report)
    print(f"verified and installed {name} in {path}")


@data_app.command("import")
@clean_errors
def import_command(
    name: Annotated[str, typer.Option("--name", help="the new data set's name, for --dataset later")],
    titles: Annotated[Path, typer.Option("--titles", help="CSV: id, name, year, genres, overview, ...")],
    interactions: Annotated[
        Path, typer.Option("--interactions", help="CSV: user, title, rating or value, timestamp")
    ],
    text_columns: Annotated[
        str | None,
        typer.Option(help="comma-separated titles.csv columns to embed as text (default: overview, ...)"),
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="import the good rows and list the bad ones")
    ] = False,
) -> None:
    """Import your own catalog and interaction log as a data set that build, eval, serve and chat use."""
    columns = [c.strip() for c in text_columns.split(",") if c.strip()] if text_columns else None
    try:
        done = import_dataset(
            name,
            titles,
            interactions,
            settings().data_dir,
            text_columns=columns,
            skip_bad_rows=skip_bad_rows,
            reserved=DATASETS,
        )
    except ImportFailed as exc:
        for bad in exc.bad:
            print(bad, file=sys.stderr)
        raise
    for bad in done.skipped:
        print(f"skipped {bad}", file=sys.stderr)
    print(
        f"imported {name} into {done.folder}: {done.titles} titles, {done.users} users, "
        f"{done.interactions} interactions ({len(done.skipped)} bad rows skipped); "
        f"next: `marquee build --dataset {name}`"
    )


@experiment_app.command("report")
@clean_errors
def experiment_report_command(
    dataset: DatasetOpt = "ml-latest-small",
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Per-arm take rate with 95% intervals, the difference between arms, guardrails (latency, diversity)
    and, for interleaving, wins, losses and ties, from the serving state of a data set."""
    s = settings()
    if s.experiment.name is None:
        raise fail("no experiment configured; set MARQUEE_EXPERIMENT__NAME and MARQUEE_EXPERIMENT__ARMS")
    url = s.database_url.get_secret_value() if s.database_url else None
    state = s.dataset_state(checked_dataset(dataset))
    result = report(state, s.experiment, events_file=EVENTS_FILE, database_url=url)
    print(json.dumps(result, indent=2) if as_json else format_report(result))


def _load_plugins() -> None:
    for ep in entry_points(group="marquee.commands"):
        try:
            ep.load()(app)
        except ImportError as exc:  # a broken optional package must not take the whole CLI down
            print(f"marquee: warning: command plugin {ep.name!r} unavailable: {exc}", file=sys.stderr)


_load_plugins()

if __name__ == "__main__":
    app()
