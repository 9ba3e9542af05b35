"""Suite-wide settings and fixtures: single-threaded BLAS, no model hub, the real data and slices of it."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import redis  # noqa: E402

from catalog.conversations import Conversations, PostgresConversations, SQLiteConversations  # noqa: E402
from catalog.database import Database  # noqa: E402
from engine import Engine, Settings, assemble, build  # noqa: E402
from engine.config import ApiSettings, RankerSettings, default_data_dir  # noqa: E402
from tests import postgres, redis_server  # noqa: E402
from tests.backends import BACKENDS, opener  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASET = "ml-latest-small"  # what the session's engine is built from (a slice of it)


def real_data_dir() -> Path:
    """MARQUEE_DATA_DIR, else where the app looks (../shared/data, else the folder `make demo` fetched
    ml-latest-small into): a fresh clone tests on the data its demo fetched."""
    env = os.environ.get("MARQUEE_DATA_DIR")
    return Path(env) if env else default_data_dir()


@pytest.fixture(scope="session")
def small_slice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding a real slice of ml-latest-small: its 300 most rated titles and the
    ratings, tags and links on them, with the real metadata folder linked in."""
    real = real_data_dir()
    source = real / "movielens" / "ml-latest-small"
    if not source.is_dir():
        pytest.skip(f"real data not found at {real}; set MARQUEE_DATA_DIR")
    root = tmp_path_factory.mktemp("data")
    target = root / "movielens" / "ml-latest-small"
    target.mkdir(parents=True)
    ratings = pd.read_csv(source / "ratings.csv")
    keep = ratings.movieId.value_counts().index[:300]
    ratings[ratings.movieId.isin(keep)].to_csv(target / "ratings.csv", index=False)
    for name in ("movies.csv", "links.csv", "tags.csv"):
        frame = pd.read_csv(source / name)
        frame[frame.movieId.isin(keep)].to_csv(target / name, index=False)
    (root / "metadata").symlink_to(real / "metadata", target_is_directory=True)
    return root


# One engine per session, built on the slice; the API, the assistant and their tests share it.
@pytest.fixture(scope="session")
def api_settings(small_slice_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = Settings(
        data_dir=small_slice_dir,
        artifacts_dir=tmp_path_factory.mktemp("api-artifacts"),
        state_dir=tmp_path_factory.mktemp("api-state"),
        ranker=RankerSettings(max_training_users=60),  # a real ranker, trained in seconds, not half a minute
        api=ApiSettings(anonymous_per_minute=100_000),  # every test signs up from the one test client address
    )
    build(s, DATASET)
    return s


@pytest.fixture(scope="session")
def engine(api_settings: Settings) -> Iterator[Engine]:
    eng = assemble(api_settings, DATASET)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for the session (tests/postgres.py), or a skip saying why there is none."""
    bin_dir = postgres.binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql, or set MARQUEE_PG_BIN)")
    with postgres.server(bin_dir) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A new empty database on the session's server, with a password in its URL."""
    return postgres.fresh_database(postgres_server)


@pytest.fixture
def open_database(postgres_url: str) -> Iterator[Callable[[], Database]]:
    """Opens pools on one new database, as replicas each open their own; all closed after the test."""
    opened: list[Database] = []

    def open_one() -> Database:
        opened.append(Database(postgres_url))
        return opened[-1]

    yield open_one
    for database in opened:
        database.close()


@pytest.fixture(params=BACKENDS)
def open_conversations(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], Conversations]]:
    """Opens another conversation store over one SQLite file or one PostgreSQL database each call."""

    def sqlite() -> Conversations:
        return SQLiteConversations(tmp_path / "conversations.sqlite")

    with opener(request, sqlite=sqlite, postgresql=PostgresConversations) as open_one:
        yield open_one


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A Redis server for the session (tests/redis_server.py), or a skip saying why there is none."""
    path = redis_server.binary()
    if path is None:
        pytest.skip("redis-server not found (apt-get install redis-server, or set MARQUEE_REDIS_SERVER)")
    with redis_server.server(path) as url:
        yield url


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """The session's Redis, emptied, with a password in its URL."""
    client = redis.Redis.from_url(redis_server_url)
    client.flushall()
    client.close()
    return redis_server_url
