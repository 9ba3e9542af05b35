"""Settings from the environment (prefix MARQUEE_, nested with __) with sensible embedded defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_data_dir() -> Path:
    """../shared/data beside the checkout when present, else the per-user download folder."""
    for candidate in (Path.cwd() / ".." / "shared" / "data", REPO_ROOT / ".." / "shared" / "data"):
        if candidate.is_dir():
            return candidate.resolve()
    return Path.home() / ".cache" / "marquee" / "data"


class ALSSettings(BaseModel):
    """Defaults chosen on a validation split (see README); `marquee eval` re-tunes them per data set."""

    factors: int = Field(64, ge=2, le=1024)
    regularization: float = Field(0.05, ge=0)
    alpha: float = Field(2.0, gt=0)
    iterations: int = Field(15, ge=1, le=200)
    weighting: str = "binary"


class RetrievalSettings(BaseModel):
    candidates_per_source: int = Field(200, ge=1, le=5000)
    trending_half_life_days: float = Field(60.0, gt=0)
    similar_anchors: int = Field(3, ge=1, le=20)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARQUEE_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    artifacts_dir: Path = Path("artifacts")
    # Unset: embedded Qdrant Edge under the artifacts folder. Set: a Qdrant server or cluster.
    qdrant_url: str | None = Field(None, validation_alias=AliasChoices("QDRANT_URL", "MARQUEE_QDRANT_URL"))
    qdrant_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("QDRANT_API_KEY", "MARQUEE_QDRANT_API_KEY")
    )
    als: ALSSettings = ALSSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    seed: int = 42

    def dataset_artifacts(self, dataset: str) -> Path:
        return self.artifacts_dir / dataset
