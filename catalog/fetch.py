"""Download the public MovieLens archive for users without ../shared/data, and verify it."""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from catalog.errors import CatalogError

OFFICIAL_URLS = {"ml-latest-small": "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"}

# sha256 of the files inside the official 2018-09 ml-latest-small.zip (same as ../shared/data).
EXPECTED_SHA256 = {
    "ml-latest-small": {
        "README.txt": "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404",
        "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
        "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
        "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
        "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
    }
}
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024


class FetchError(CatalogError):
    """The download failed or its contents did not verify; nothing was installed."""


def fetch(
    name: str,
    data_dir: Path,
    *,
    url: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download `name`, verify every file's sha256, and install it under data_dir/movielens/name.

    The files land in place only after all of them verify, so a bad download never leaves half a data set.
    """
    if name not in EXPECTED_SHA256:
        raise FetchError(f"cannot fetch {name!r}; fetchable: {', '.join(sorted(EXPECTED_SHA256))}")
    source = _as_url(url) if url else OFFICIAL_URLS[name]
    archive = _download(source, name, timeout=timeout, progress=progress)
    files = _verified_members(archive, EXPECTED_SHA256[name], source)
    target = data_dir / "movielens" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        for filename, content in files.items():
            (staging / filename).write_bytes(content)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _as_url(given: str) -> str:
    """A URL as given, or a local copy's path as a file:// URL (how a machine without network fetches)."""
    path = Path(given).expanduser()
    return path.resolve().as_uri() if "://" not in given and path.is_file() else given


def _download(
    url: str, name: str, *, timeout: float, progress: Callable[[int, int | None], None] | None
) -> bytes:
    buffer = io.BytesIO()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http(s) or file by config
            # Content-Length, not `response.length`: a file:// response has only the header.
            total = int(response.headers.get("Content-Length") or 0) or None
            while chunk := response.read(1 << 16):
                buffer.write(chunk)
                if buffer.tell() > MAX_ARCHIVE_BYTES:
                    raise FetchError(f"{url} is larger than {MAX_ARCHIVE_BYTES >> 20} MiB; refusing it")
                if progress:
                    progress(buffer.tell(), total)
    except (OSError, ValueError) as exc:  # ValueError: not a URL, nor a file that exists
        if isinstance(exc, urllib.error.HTTPError):
            exc.close()  # an HTTP error holds its connection open for as long as anyone keeps the error
        raise FetchError(
            f"could not download {url}: {exc}. Without network: give --url (or MARQUEE_DATA_URL) the path "
            f"of a copy of the archive, or set MARQUEE_DATA_DIR to a folder holding movielens/{name}/"
        ) from exc
    return buffer.getvalue()


def _verified_members(archive: bytes, expected: dict[str, str], source: str) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            by_name = {Path(info.filename).name: info for info in zf.infolist() if not info.is_dir()}
            missing = sorted(set(expected) - set(by_name))
            if missing:
                raise FetchError(f"archive from {source} lacks {', '.join(missing)}")
            files = {name: zf.read(by_name[name]) for name in expected}
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{source} did not return a zip archive: {exc}") from exc
    for name, content in files.items():
        digest = hashlib.sha256(content).hexdigest()
        if digest != expected[name]:
            raise FetchError(f"{name} from {source} has sha256 {digest}, expected {expected[name]}")
    return files
