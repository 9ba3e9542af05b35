"""Settings from the environment (prefix MARQUEE_, nested with __) with sensible embedded defaults.

A component's knobs are its own config model, next to it (retrieval.ALSConfig, ranker.LTRConfig, ...),
nested here as they are: one set of defaults, read by the component without copying.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ranker import BlendWeights, LTRConfig
from ranker.rows import RowsConfig
from retrieval import ALSConfig, EASEConfig, VAEConfig

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_data_dir() -> Path:
    """../shared/data beside the checkout when present, else the per-user download folder."""
    for candidate in (Path.cwd() / ".." / "shared" / "data", REPO_ROOT / ".." / "shared" / "data"):
        if candidate.is_dir():
            return candidate.resolve()
    return Path.home() / ".cache" / "marquee" / "data"


class RetrievalSettings(BaseModel):
    trending_half_life_days: float = Field(60.0, gt=0)
    similar_anchors: int = Field(3, ge=1, le=20)
    ease: EASEConfig = EASEConfig()  # `marquee eval` tunes its own l2 on validation
    vae: VAEConfig = VAEConfig()  # the Mult-VAE behind the ranker's vae_* features

    @model_validator(mode="before")
    @classmethod
    def _flat_ease_l2(cls, data: Any) -> Any:
        """MARQUEE_RETRIEVAL__EASE_L2 keeps its name from before EASE's config was nested here."""
        if isinstance(data, dict) and "ease_l2" in data:
            data = dict(data)
            data["ease"] = {**dict(data.get("ease") or {}), "l2": data.pop("ease_l2")}
        return data


class RankerSettings(BlendWeights):
    """Stage 2: how many candidates it scores, how it trains, and (inherited, MARQUEE_RANKER__NOVELTY
    and so on) the blend's weights, which stage 2 and the homepage rows read as they are."""

    candidates_per_source: int = Field(100, ge=1, le=2000)
    candidates: int = Field(300, ge=10, le=5000)  # merged list the ranker scores per request
    # Places in that list reserved for each source's head (see retrieval.merge): the fused cut alone let
    # weak sources push strong ones out, so the pool retrieved less than EASE or ALS alone. Chosen on the
    # validation folds of ml-latest-small and ml-100k user-temporal (recall@300: RRF 0.533 / 0.829,
    # EASE 150 + ALS 75 0.595 / 0.840, EASE 200 + ALS 100 0.617 / 0.848).
    # They order the pool only where no learned fusion was trained (retrieval.fusion): a fusion
    # retrieved more on validation (recall@300 on two halves of ml-latest-small's inner users, each
    # learned on the other: 0.627 / 0.671 vs quotas 0.597 / 0.638 and ALS alone 0.620 / 0.662).
    quotas: dict[str, int] = Field(default_factory=lambda: {"ease": 200, "als": 100})
    # Training profiles (with their short ones) the pool's fusion is learned from.
    fusion_profiles: int = Field(400, ge=10)
    # How many titles the fusion asks these sources for (others: `candidates_per_source`). EASE's and
    # ALS's 300 were what let the fused pool retrieve more than either alone on validation; every
    # source at 300 retrieved a little more again (0.642 / 0.676) but cost ~7 ms per page (1.35x).
    fusion_depths: dict[str, int] = Field(default_factory=lambda: {"ease": 300, "als": 300})
    # The profile's own titles (continue watching, rewatches: a source the fusion does not weigh) kept
    # beside its cut: enough for their rows. All of them made some pools 400 long and pages 150 ms.
    revisits: int = Field(20, ge=0, le=500)
    # Inner users whose candidates train the ranker; smaller data sets use all of theirs. ml-1m
    # validation (1,198 held-out inner users, NDCG@10 against EASE's order): 1,500 users 0.992x, ~4,800
    # 0.997x, ~4,800 with the user-neighbour features 1.013x (1,500 without: 0.998x, over three seeds).
    max_training_users: int = Field(5000, ge=20)
    # Each training user also yields short profiles of n titles (n in turn from these), so the ranker
    # learns what a new profile's few picks say; () trains on full histories only (new profiles then
    # ranked below plain popularity: README, "Does stage 2 earn its place?").
    short_histories: tuple[Annotated[int, Field(ge=1)], ...] = (3, 5)
    # Up to this many per user: its first n titles, the next n, ... (engine.ranking.short_profiles).
    short_windows: int = Field(3, ge=1, le=20)
    # With short profiles, a second model is trained on both kinds and scores profiles of fewer titles
    # than this; the first, trained on whole histories alone, scores the rest (ranker.ProfileLengthRanker).
    short_model_below: int = Field(10, ge=1)
    # Models per ranker, each stopped early on another fifth of the training users; their scores are
    # averaged (ranker.LTRRanker.bagged). 1 trains one model, as before: faster, and less accurate.
    bag: int = Field(3, ge=1, le=5)
    ltr: LTRConfig = LTRConfig()


class ApiSettings(BaseModel):
    """The HTTP API: which data set it serves and the limits that keep one client from hurting others."""

    dataset: str = "ml-latest-small"
    rate_limit_per_minute: int = Field(600, ge=1)  # per API key; bursts up to the same number
    max_body_bytes: int = Field(1 << 20, ge=1024)
    body_timeout_s: float = Field(10.0, gt=0, le=300)  # a body not received by then: 408
    # Per client address, for what needs no key (creating an account); bursts up to the same number.
    anonymous_per_minute: int = Field(20, ge=1)
    # With MARQUEE_DATABASE_URL, how long a replica trusts a key's and a profile's owner it has read: a key
    # revoked elsewhere stops working within this (api/owners.py). 0: every request reads the database.
    key_cache_s: float = Field(5.0, ge=0, le=300)


class LLMSettings(BaseModel):
    """An OpenAI-compatible chat model for the assistant (OpenAI, vLLM, Ollama, llama.cpp server, ...).

    Unset base_url: the built-in offline dialogue policy answers. OPENAI_BASE_URL, OPENAI_API_KEY and
    OPENAI_MODEL are read when the MARQUEE_LLM__* variables are not set.
    """

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: SecretStr | None = None
    timeout_s: float = Field(10.0, gt=0, le=120)  # per model call
    turn_budget_s: float = Field(15.0, gt=0, le=600)  # per user turn, both drivers, tool calls included
    max_tool_calls: int = Field(6, ge=1, le=20)
    retries: int = Field(1, ge=0, le=5)  # refused connections and 5xx only: a timeout is never retried
    # "plan": one structured call reads the turn, the engine acts, a short call writes the reply (small
    # models); "react": the model calls the tools itself in a loop (strong models).
    driver: Literal["plan", "react"] = "plan"
    reply: Literal["model", "template"] = "model"  # who writes the plan driver's reply around the picks
    breaker_failures: int = Field(2, ge=1, le=20)  # consecutive outages that open the circuit breaker
    breaker_cool_down_s: float = Field(30.0, gt=0, le=3600)  # how long the model is skipped then

    @model_validator(mode="after")
    def _openai_env(self) -> LLMSettings:
        if self.base_url is None and os.environ.get("OPENAI_BASE_URL"):
            self.base_url = os.environ["OPENAI_BASE_URL"]
            self.model = os.environ.get("OPENAI_MODEL", self.model)
        if self.api_key is None and os.environ.get("OPENAI_API_KEY"):
            self.api_key = SecretStr(os.environ["OPENAI_API_KEY"])
        return self


ARM_HELP = '"control" (as configured), "ranker" (trained), "candidate_order" or "diversity_<0..1>"'


@dataclass(frozen=True)
class Arm:
    """What one arm serves: a ranker ("trained" or "candidate_order"; None: as configured) and an MMR
    diversity weight (None: as configured)."""

    name: str
    ranker: str | None = None
    diversity: float | None = None


def parse_arm(name: str) -> Arm:
    """The arm a name stands for; the one place arm names are read, so settings and serving agree."""
    if name == "control":
        return Arm(name)
    if name == "ranker":
        return Arm(name, ranker="trained")
    if name == "candidate_order":
        return Arm(name, ranker="candidate_order")
    if name.startswith("diversity_"):
        try:
            weight = float(name.removeprefix("diversity_"))
        except ValueError:
            weight = -1.0
        if 0.0 <= weight <= 1.0:
            return Arm(name, diversity=weight)
    raise ValueError(f"unknown experiment arm {name!r}; valid: {ARM_HELP}")


class ExperimentSettings(BaseModel):
    """One experiment at a time, e.g. MARQUEE_EXPERIMENT__NAME=rank1
    MARQUEE_EXPERIMENT__ARMS='["ranker","candidate_order"]'. An arm's name says what it serves:
    "control" (as configured), "ranker" (the trained ranker), "candidate_order" (stage 1's order) or
    "diversity_0.6" (that MMR diversity weight). "ab" splits profiles by a hash of (name, profile);
    "interleave" shows everyone a team-draft interleaving of the two arms' Top Picks."""

    name: str | None = None  # None: no experiment runs
    mode: Literal["ab", "interleave"] = "ab"
    arms: list[str] = Field(default_factory=list)

    @field_validator("name", mode="before")
    @classmethod
    def _blank_is_none(cls, name: object) -> object:
        return None if isinstance(name, str) and not name.strip() else name

    @model_validator(mode="after")
    def _check(self) -> ExperimentSettings:
        for arm in self.arms:
            parse_arm(arm)
        if len(set(self.arms)) != len(self.arms):
            raise ValueError(f"experiment arms must differ; got {self.arms}")
        if self.name is not None and len(self.arms) < 2:
            raise ValueError(f"experiment {self.name!r} needs at least two arms; valid: {ARM_HELP}")
        if self.mode == "interleave" and self.name is not None and len(self.arms) != 2:
            raise ValueError(f"interleaving compares exactly two arms; got {self.arms}")
        return self


class Settings(BaseSettings):
    # A `.env` in the working directory fills in what the environment leaves unset (.env.example).
    model_config = SettingsConfigDict(
        env_prefix="MARQUEE_", env_nested_delimiter="__", extra="ignore", env_file=".env"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    artifacts_dir: Path = Path("artifacts")
    # What serving learns and must keep across rebuilds: profiles, events, bandit posteriors.
    state_dir: Path = Path("state")
    # Unset: embedded Qdrant Edge under the artifacts folder. Set: a Qdrant server or cluster.
    qdrant_url: str | None = Field(None, validation_alias=AliasChoices("QDRANT_URL", "MARQUEE_QDRANT_URL"))
    qdrant_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("QDRANT_API_KEY", "MARQUEE_QDRANT_API_KEY")
    )
    # Unset: accounts, profiles and events in SQLite under the state folder. Set (MARQUEE_DATABASE_URL,
    # postgresql://user:password@host/db): in PostgreSQL, shared by every replica. Secret: it holds a
    # password, so it is checked where it is opened (catalog/pg_events.py), never echoed by a validator.
    database_url: SecretStr | None = None
    # Unset: each process keeps its homepage cache in memory. Set (MARQUEE_REDIS_URL, redis://[:password@]host:
    # port/db): the cache is in Redis, shared by every replica (api/redis_pages.py). Secret, as above.
    redis_url: SecretStr | None = None
    als: ALSConfig = ALSConfig()
    retrieval: RetrievalSettings = RetrievalSettings()
    ranker: RankerSettings = RankerSettings()
    rows: RowsConfig = RowsConfig()
    api: ApiSettings = ApiSettings()
    experiment: ExperimentSettings = ExperimentSettings()
    llm: LLMSettings = LLMSettings()
    # Processes that make homepage drafts beside a serving process (engine/pages.py); 0: drafts are
    # made in the serving process. `marquee serve` defaults to one per core but one (at most 4).
    page_workers: int = Field(0, ge=0, le=16)
    # Accounts that look injected (catalog/shilling.py) count for nothing in trending, popularity, training.
    shilling_defence: bool = True
    seed: int = 42
    # The operator's key for catalog writes (POST/PATCH/DELETE /v1/titles); unset, nobody may write.
    admin_key: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_json: bool = False  # one JSON object per log line instead of text

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @model_validator(mode="after")
    def _one_seed(self) -> Settings:
        """MARQUEE_SEED seeds every trained component that was not given a seed of its own."""
        if "seed" not in self.als.model_fields_set:
            self.als = self.als.model_copy(update={"seed": self.seed})
        if "seed" not in self.ranker.ltr.model_fields_set:
            ltr = self.ranker.ltr.model_copy(update={"seed": self.seed})
            self.ranker = self.ranker.model_copy(update={"ltr": ltr})
        if "seed" not in self.retrieval.vae.model_fields_set:
            vae = self.retrieval.vae.model_copy(update={"seed": self.seed})
            self.retrieval = self.retrieval.model_copy(update={"vae": vae})
        return self

    def dataset_state(self, dataset: str) -> Path:
        return self.state_dir / dataset

    def dataset_artifacts(self, dataset: str) -> Path:
        return self.artifacts_dir / dataset
