"""`marquee data fetch` against a zip served by a local HTTP server (no outside network)."""

from __future__ import annotations

import functools
import io
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalog.fetch import EXPECTED_SHA256, FetchError, fetch
from engine.cli import app


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in files.items():
            zf.writestr(f"ml-latest-small/{name}", content)
    return buffer.getvalue()


@pytest.fixture
def small(data_dir: Path) -> Path:
    """The real ml-latest-small folder, whose files the official archive holds."""
    folder = data_dir / "movielens" / "ml-latest-small"
    if not folder.is_dir():
        pytest.skip(f"ml-latest-small not found in {data_dir}; run `marquee data fetch ml-latest-small`")
    return folder


def _official_files(small: Path) -> dict[str, bytes]:
    return {name: (small / name).read_bytes() for name in EXPECTED_SHA256["ml-latest-small"]}


@pytest.mark.realdata
def test_fetch_verifies_and_installs(served: tuple[str, Path], tmp_path: Path, small: Path) -> None:
    base, root = served
    (root / "ml-latest-small.zip").write_bytes(_zip(_official_files(small)))
    target = fetch("ml-latest-small", tmp_path / "data", url=f"{base}/ml-latest-small.zip")
    assert target == tmp_path / "data" / "movielens" / "ml-latest-small"
    assert (target / "ratings.csv").read_bytes() == (small / "ratings.csv").read_bytes()


@pytest.mark.realdata
def test_tampered_archive_is_rejected_and_nothing_installed(
    served: tuple[str, Path], tmp_path: Path, small: Path
) -> None:
    base, root = served
    files = _official_files(small)
    files["ratings.csv"] = files["ratings.csv"].replace(b"4.0", b"5.0", 1)
    (root / "bad.zip").write_bytes(_zip(files))
    with pytest.raises(FetchError, match="ratings.csv .* has sha256"):
        fetch("ml-latest-small", tmp_path / "data", url=f"{base}/bad.zip")
    assert not (tmp_path / "data" / "movielens" / "ml-latest-small").exists()


def test_not_a_zip_and_missing_url(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    (root / "page.zip").write_bytes(b"<html>not found</html>")
    with pytest.raises(FetchError, match="did not return a zip"):
        fetch("ml-latest-small", tmp_path, url=f"{base}/page.zip")
    with pytest.raises(FetchError, match="could not download") as unreachable:
        fetch("ml-latest-small", tmp_path, url=f"{base}/absent.zip")
    # Offline, the message names both ways on: a local copy of the archive, or a data folder.
    assert "--url" in str(unreachable.value) and "MARQUEE_DATA_DIR" in str(unreachable.value)
    with pytest.raises(FetchError, match="could not download no/such/copy.zip"):
        fetch("ml-latest-small", tmp_path, url="no/such/copy.zip")


@pytest.mark.realdata
def test_a_local_copy_of_the_archive_installs_by_path_or_file_url(tmp_path: Path, small: Path) -> None:
    """How a machine without network fetches: the archive copied over, named by its path."""
    archive = tmp_path / "ml-latest-small.zip"
    archive.write_bytes(_zip(_official_files(small)))
    for given in (str(archive), archive.as_uri()):
        target = fetch("ml-latest-small", tmp_path / given[-40:].replace("/", "_"), url=given)
        assert (target / "movies.csv").read_bytes() == (small / "movies.csv").read_bytes()


@pytest.mark.realdata
def test_fetch_if_missing_downloads_once_and_says_so(
    served: tuple[str, Path], tmp_path: Path, small: Path
) -> None:
    """What `make demo` runs: the first call fetches into an empty data folder, the second finds it."""
    base, root = served
    (root / "ml-latest-small.zip").write_bytes(_zip(_official_files(small)))
    env = {"MARQUEE_DATA_DIR": str(tmp_path / "data"), "MARQUEE_DATA_URL": f"{base}/ml-latest-small.zip"}
    args = ["data", "fetch", "ml-latest-small", "--if-missing"]
    first = CliRunner().invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    target = tmp_path / "data" / "movielens" / "ml-latest-small"
    assert f"verified and installed ml-latest-small in {target}" in first.stdout
    (root / "ml-latest-small.zip").unlink()  # a second download would now fail
    second = CliRunner().invoke(app, args, env=env)
    assert second.exit_code == 0, second.output
    assert f"using ml-latest-small from {target}; nothing fetched" in second.stdout
