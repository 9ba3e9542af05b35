"""Mult-VAE (Liang et al. 2018): a variational autoencoder over a profile's watched set, as ranker evidence.

A non-linear model of what is watched together, beside EASE's linear one: on ml-1m, where nothing built
from titles added to EASE, its score as a feature did (engine/ranking.py). Trained with torch at build;
served in numpy (the encoder's mean, then the decoder), so a request needs no torch and no sampling.
Like EASE it reads a profile's titles, not a user id, so a new profile is scored as it is.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from catalog import Interactions
from catalog.matrix import UserItemMatrix
from retrieval.lookup import known_positions, lookup
from retrieval.recent import RecentResults

RECENT_SCORES = 32  # profiles' scores kept, as EASE keeps them
WEIGHTS = ("enc_w", "enc_b", "mu_w", "mu_b", "dec_w", "dec_b", "out_w", "out_b")


class VAEConfig(BaseModel):
    """The paper's shape ([I → 600 → 200 → 600 → I], tanh, dropout 0.5 on the input, KL weight annealed
    towards 0.2), trained for `epochs` passes."""

    model_config = ConfigDict(frozen=True)

    hidden: int = Field(600, ge=1)
    latent: int = Field(200, ge=1)
    epochs: int = Field(100, ge=1)
    batch: int = Field(500, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    dropout: float = Field(0.5, ge=0, lt=1)
    kl_cap: float = Field(0.2, ge=0)
    anneal_steps: int = Field(200_000, ge=1)  # batches until the KL weight reaches `kl_cap`
    seed: int = 42
    # Titles with fewer training users get no column, as in the paper's data (and EASE's `min_users`).
    # A request's cost grows with the columns: ml-latest-small keeps 3,650 of its 9,724 titles.
    min_users: int = Field(5, ge=1)


class VAEModel:
    """Weights over `item_ids` (sorted); a profile's scores are the decoder's logits for its watched set."""

    def __init__(self, weights: dict[str, np.ndarray], item_ids: np.ndarray, config: VAEConfig) -> None:
        missing = [name for name in WEIGHTS if name not in weights]
        if missing:
            raise ValueError(f"VAE weights lack {missing}")
        if weights["enc_w"].shape[0] != len(item_ids) or weights["out_w"].shape[1] != len(item_ids):
            raise ValueError(f"VAE weights do not match the {len(item_ids)} item ids")
        self.weights = {name: np.asarray(weights[name], np.float32) for name in WEIGHTS}
        self.item_ids = np.asarray(item_ids, np.int64)
        self.config = config
        self._recent = RecentResults(RECENT_SCORES)

    @classmethod
    def fit(cls, interactions: Interactions, config: VAEConfig | None = None) -> VAEModel:
        return cls.from_matrix(UserItemMatrix.build(interactions), config)

    @classmethod
    def from_matrix(cls, matrix: UserItemMatrix, config: VAEConfig | None = None) -> VAEModel:
        config = config or VAEConfig()
        columns = np.flatnonzero(matrix.csr.getnnz(axis=0) >= config.min_users)
        return cls(_train(matrix.csr[:, columns], config), matrix.item_ids[columns], config)

    def positions(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column of each title id (clipped) and whether it has one."""
        return lookup(self.item_ids, ids)

    def scores(self, history: np.ndarray) -> np.ndarray:
        """Logits over `item_ids` for a profile that has seen `history` (binary, as trained); read-only,
        as the same array answers the same history again."""
        rows = known_positions(self.item_ids, history)

        def decoded() -> np.ndarray:
            # The input is the watched set scaled to unit length: its first layer is a sum of rows.
            # A Python float divides float32 into float32 (a numpy float64 would promote it, and every
            # layer after it would convert its weights to float64 on each call: 10x the cost).
            first = self.weights["enc_w"][rows].sum(axis=0, keepdims=True) / math.sqrt(max(len(rows), 1))
            row: np.ndarray = self._decode(first)[0]
            return row

        return self._recent.get_or(rows.tobytes(), decoded)

    def logits(self, rows: sp.csr_matrix) -> np.ndarray:
        """Dense logits for a batch of watched sets (rows over `item_ids`, any positive entry watched)."""
        counts = np.maximum(np.diff(rows.indptr), 1).astype(np.float32)
        binary = rows.astype(bool).astype(np.float32)
        first = (binary @ self.weights["enc_w"]) / np.sqrt(counts)[:, None]
        return self._decode(np.asarray(first, np.float32))

    def _decode(self, first: np.ndarray) -> np.ndarray:
        """The encoder's mean, decoded: logits from the input layer's pre-activation."""
        w = self.weights
        mu = np.tanh(first + w["enc_b"]) @ w["mu_w"] + w["mu_b"]
        logits: np.ndarray = np.tanh(mu @ w["dec_w"] + w["dec_b"]) @ w["out_w"] + w["out_b"]
        return logits.astype(np.float32, copy=False)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            item_ids=self.item_ids,
            config=json.dumps(self.config.model_dump()),
            allow_pickle=False,  # as `load` reads it; named, it also keeps the weights off this flag
            **self.weights,
        )

    @classmethod
    def load(cls, path: Path) -> VAEModel:
        with np.load(path, allow_pickle=False) as data:
            weights = {name: data[name] for name in WEIGHTS}
            return cls(weights, data["item_ids"], VAEConfig(**json.loads(str(data["config"]))))


def _train(X: sp.csr_matrix, config: VAEConfig) -> dict[str, np.ndarray]:
    """The weights after `config.epochs` passes over X's rows (binary), with a multinomial likelihood."""
    import torch  # only a build trains; serving reads the weights with numpy
    import torch.nn.functional as F
    from torch import nn

    n_items = X.shape[1]
    if not n_items:  # no title has `min_users` viewers (a tiny catalog): nothing to learn or score
        return _empty_weights(config)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    encoder = nn.Linear(n_items, config.hidden)
    to_latent = nn.Linear(config.hidden, 2 * config.latent)  # mean, then log-variance
    decoder = nn.Linear(config.latent, config.hidden)
    output = nn.Linear(config.hidden, n_items)
    layers = nn.ModuleList([encoder, to_latent, decoder, output])
    optimizer = torch.optim.Adam(layers.parameters(), lr=config.learning_rate)
    X = X.astype(np.float32)
    X.data[:] = 1.0
    step = 0
    for _ in range(config.epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, len(order), config.batch):
            batch = torch.from_numpy(X[order[start : start + config.batch]].toarray())
            inputs = F.dropout(F.normalize(batch, dim=1), config.dropout, training=True)
            mu, logvar = to_latent(torch.tanh(encoder(inputs))).chunk(2, dim=1)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            logits = output(torch.tanh(decoder(z)))
            likelihood = (F.log_softmax(logits, dim=1) * batch).sum(dim=1).mean()
            kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)).mean()
            beta = min(config.kl_cap, step / config.anneal_steps)
            optimizer.zero_grad()
            (beta * kl - likelihood).backward()
            optimizer.step()
            step += 1
    latent = config.latent
    with torch.no_grad():
        return {
            "enc_w": encoder.weight.T.numpy().copy(),
            "enc_b": encoder.bias.numpy().copy(),
            "mu_w": to_latent.weight[:latent].T.numpy().copy(),
            "mu_b": to_latent.bias[:latent].numpy().copy(),
            "dec_w": decoder.weight.T.numpy().copy(),
            "dec_b": decoder.bias.numpy().copy(),
            "out_w": output.weight.T.numpy().copy(),
            "out_b": output.bias.numpy().copy(),
        }


def _empty_weights(config: VAEConfig) -> dict[str, np.ndarray]:
    """Weights over no titles: every score array is empty."""
    hidden, latent = config.hidden, config.latent
    shapes = {
        "enc_w": (0, hidden),
        "enc_b": (hidden,),
        "mu_w": (hidden, latent),
        "mu_b": (latent,),
        "dec_w": (latent, hidden),
        "dec_b": (hidden,),
        "out_w": (hidden, 0),
        "out_b": (0,),
    }
    return {name: np.zeros(shape, np.float32) for name, shape in shapes.items()}
