"""The artifacts folder and its manifest: what was built, from which data, with which versions."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

MANIFEST = "manifest.json"
TRACKED_PACKAGES = (
    "implicit",
    "numpy",
    "qdrant-client",
    "qdrant-edge-py",
    "scipy",
    "sentence-transformers",
    "torch",
    "xgboost-cpu",
)


class Manifest(BaseModel):
    dataset: str
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    data_checksum: str
    versions: dict[str, str] = Field(default_factory=lambda: library_versions())
    parameters: dict[str, Any] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict)  # relative path -> sha256
    metrics: dict[str, Any] = Field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        path = folder / MANIFEST
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        tmp.replace(path)  # atomic: a reader never sees half a manifest
        return path

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        return cls.model_validate(json.loads((folder / MANIFEST).read_text()))


def package_version() -> str:
    """Marquee's installed version (`marquee --version`, the API's health); a checkout never installed
    says so."""
    try:
        return metadata.version("marquee")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
