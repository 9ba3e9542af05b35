"""The serving facade: loads built artifacts once and answers requests. Never trains."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog import Context, Dataset, History, Title, load_dataset
from engine.artifacts import Manifest
from engine.build import ALS_FILE
from engine.config import Settings
from engine.errors import ArtifactsMissingError, StaleArtifactsError, UnknownUserError
from engine.indexes import open_index
from engine.wiring import make_sources
from retrieval import ALSModel, CandidateSet, CandidateSource, TextEmbedder, TitleIndex, merge


@dataclass(frozen=True)
class Recommendation:
    title: Title
    score: float
    sources: tuple[str, ...]  # every source that proposed it, strongest first
    reasons: tuple[str, ...]  # one human reason per source

    @property
    def explanation(self) -> str:
        return self.reasons[0]


class Engine:
    def __init__(
        self,
        *,
        settings: Settings,
        dataset: Dataset,
        index: TitleIndex,
        sources: list[CandidateSource],
        manifest: Manifest,
    ) -> None:
        self.settings = settings
        self.dataset = dataset
        self.index = index
        self.sources = sources
        self.manifest = manifest
        self._histories = dataset.interactions.items_by_user()

    @classmethod
    def load(cls, settings: Settings, dataset_name: str, *, dataset: Dataset | None = None) -> Engine:
        folder = settings.dataset_artifacts(dataset_name)
        try:
            manifest = Manifest.read(folder)
        except FileNotFoundError:
            raise ArtifactsMissingError(
                f"no artifacts for {dataset_name!r} in {folder}; run `marquee build --dataset {dataset_name}`"
            ) from None
        dataset = dataset or load_dataset(dataset_name, settings.data_dir)
        if dataset.checksum != manifest.data_checksum:
            raise StaleArtifactsError(
                f"artifacts in {folder} were built from other data; "
                f"run `marquee build --dataset {dataset_name}`"
            )
        als = ALSModel.load(folder / ALS_FILE)
        index = open_index(settings, dataset_name)
        embedder = TextEmbedder()
        sources = make_sources(
            settings, index, als, dataset.titles, embed=lambda text: embedder.encode([text])[0]
        )
        return cls(settings=settings, dataset=dataset, index=index, sources=sources, manifest=manifest)

    def history(self, user_id: int) -> History:
        """A data set user's history, oldest first, as a profile would have it."""
        if user_id not in self._histories:
            users = sorted(self._histories)
            raise UnknownUserError(
                f"unknown user {user_id} in {self.dataset.name}; valid: {users[0]}..{users[-1]} "
                f"({len(users)} users)"
            )
        inter = self.dataset.interactions
        mask = inter.users == user_id
        order = np.argsort(inter.timestamps[mask], kind="stable")
        return History(
            items=inter.items[mask][order],
            weights=inter.ratings[mask][order],
            timestamps=inter.timestamps[mask][order],
        )

    def context_for(self, user_id: int) -> Context:
        history = self.history(user_id)
        now = float(self.dataset.interactions.timestamps.max())
        return Context(profile_id=str(user_id), history=history, now=max(now, 0.0))

    def candidates(self, context: Context) -> CandidateSet:
        k = self.settings.retrieval.candidates_per_source
        return merge([source.candidates(context=context, k=k) for source in self.sources])

    def recommend(self, context: Context, k: int = 10) -> list[Recommendation]:
        """Stage 1 only for now: merged candidates in fused order, each with its provenance."""
        out = []
        for title_id, score, provenance in self.candidates(context).top(k):
            ranked = sorted(provenance, key=lambda c: c.rank)
            out.append(
                Recommendation(
                    title=self.dataset.titles[title_id],
                    score=score,
                    sources=tuple(c.source for c in ranked),
                    reasons=tuple(c.reason for c in ranked),
                )
            )
        return out

    def close(self) -> None:
        self.index.close()
