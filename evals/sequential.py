"""SASRec (Kang & McAuley 2018) as an evaluation baseline: self-attention over a user's titles in time order.

A user's training titles, oldest first (equal timestamps by title id), are the sequence; the last `max_len`
are kept. Learned title and position embeddings go through a few causal self-attention blocks, and the
hidden state at each position is trained to pick the next title. The list for a user is the final
position's hidden state against every title's embedding (the input embeddings, shared as in the paper).

Exclusion, unknown users and the popular top-up are the shared baseline plumbing (`evals.baselines`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal, Self

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from catalog.interactions import Interactions
from catalog.matrix import UserItemMatrix
from evals.baselines import _MatrixBaseline

Loss = Literal["ce", "bce"]
PAD = 0  # sequence slot with no title; title in matrix column c is token c + 1


class _Block(nn.Module):
    """Pre-norm causal self-attention, then a position-wise feed-forward layer, each a residual branch."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.attention_norm, self.feed_norm = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.feed = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        qkv = self.qkv(self.attention_norm(x)).view(batch, length, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        x = x + _dropout(self.out(attended.transpose(1, 2).reshape(batch, length, dim)), self.dropout, self)
        return x + _dropout(self.feed(self.feed_norm(x)), self.dropout, self)


class _Net(nn.Module):
    """Title + position embeddings, `blocks` causal self-attention blocks, a final layer norm."""

    def __init__(self, n_items: int, max_len: int, dim: int, blocks: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.dim, self.dropout = dim, dropout
        self.items = nn.Embedding(n_items + 1, dim, padding_idx=PAD)
        self.positions = nn.Embedding(max_len, dim)
        # Small embeddings: the sqrt(dim) scale in forward brings them to unit size per component.
        nn.init.normal_(self.items.weight, std=dim**-0.5)
        nn.init.normal_(self.positions.weight, std=dim**-0.5)
        with torch.no_grad():
            self.items.weight[PAD].zero_()
        self.blocks = nn.ModuleList(_Block(dim, heads, dropout) for _ in range(blocks))
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(batch, length) left-padded tokens -> (batch, length, dim) hidden states.

        The length may be shorter than `max_len` (a batch trimmed of all-padding columns): positions
        count back from the end, so the last title always sits at position max_len - 1.
        """
        length = tokens.shape[1]
        positions = torch.arange(self.positions.num_embeddings - length, self.positions.num_embeddings)
        real = (tokens != PAD).unsqueeze(-1)
        x = _dropout(self.items(tokens) * math.sqrt(self.dim) + self.positions(positions), self.dropout, self)
        # Causal, and never a padded key; each position may always see itself, so that a padded query still
        # has one key (no NaN rows). Padded positions are zeroed after each block, as in the paper.
        past = torch.ones(length, length, dtype=torch.bool).tril()
        allowed = ((past & real.transpose(1, 2)) | torch.eye(length, dtype=torch.bool)).unsqueeze(1)
        x = x * real
        for block in self.blocks:
            x = block(x, allowed) * real
        out: torch.Tensor = self.norm(x)
        return out


def _dropout(x: torch.Tensor, p: float, module: nn.Module) -> torch.Tensor:
    """Dropout drawn from a uniform: F.dropout's bernoulli draw is ~3x slower on CPU and was a third of
    the training time."""
    if not module.training or p == 0.0:
        return x
    return x * (torch.rand_like(x) >= p) / (1.0 - p)


class SASRec(_MatrixBaseline):
    """SASRec trained on the next title at every position of every user's sequence.

    `loss="ce"`, the default: softmax cross-entropy (Klenitskiy & Vasilev 2023 found it beats the paper's
    objective by a wide margin), over the whole training catalogue with `negatives=0`, else over that many
    uniform titles shared by each batch. On ml-latest-small's validation fold the sampled softmax (512) over
    whole histories reached NDCG@10 0.09-0.096 in 25-40 epochs, where the full softmax costs ~4x per epoch
    (over the last window only: 0.082 at its best) and `"bce"` (the paper's binary cross-entropy, one
    uniform negative per position) reached 0.060 in 40. `whole_history`: every title is a target once
    (windows of `max_len` back from the end), not only the last window's; it matters on data this sparse.
    Training is seeded (`seed`) and leaves torch's global random state as it was; `num_threads` (None:
    torch's setting) bounds its CPU threads while it fits and scores.
    """

    name = "sasrec"

    def __init__(
        self,
        *,
        max_len: int = 50,
        dim: int = 64,
        blocks: int = 2,
        heads: int = 1,
        dropout: float = 0.5,
        epochs: int = 30,
        lr: float = 3e-3,
        loss: Loss = "ce",
        negatives: int = 512,
        whole_history: bool = True,
        train_batch: int = 32,
        seed: int = 42,
        num_threads: int | None = None,
        batch_size: int = 256,
    ) -> None:
        if max_len < 2 or epochs < 1 or dim % heads:
            raise ValueError("need max_len >= 2, epochs >= 1 and dim divisible by heads")
        if loss not in ("ce", "bce"):
            raise ValueError(f"loss must be 'ce' or 'bce', got {loss!r}")
        super().__init__("binary", batch_size)
        self.max_len, self.dim, self.blocks, self.heads, self.dropout = max_len, dim, blocks, heads, dropout
        self.epochs, self.lr, self.loss, self.train_batch = epochs, lr, loss, train_batch
        self.whole_history, self.negatives = whole_history, negatives
        self.seed, self.num_threads = seed, num_threads
        self.net: _Net | None = None
        self._last: np.ndarray | None = None  # (n_users, max_len) each user's last titles, left-padded

    def fit(self, train: Interactions) -> Self:
        super().fit(train)  # the matrix (rows, exclusion) and the popular order for the top-up
        assert self.matrix is not None
        sequences = _sequences(train, self.matrix)
        self._last = np.stack([_left_pad(s[-self.max_len :], self.max_len) for s in sequences])
        # Windows of max_len + 1 titles (inputs [:-1], next titles [1:]) from the end of each sequence back:
        # only the last one, or back to the start so that every title is a target once.
        # No window at all (every user has one title) leaves the model untrained, not an error.
        windows = np.array(
            [w for s in sequences for w in _windows(s, self.max_len + 1, every=self.whole_history)], np.int64
        ).reshape(-1, self.max_len + 1)
        with self._threads(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.net = _Net(
                self.matrix.n_items, self.max_len, self.dim, self.blocks, self.heads, self.dropout
            )
            self._train(self.net, torch.from_numpy(windows), np.random.default_rng(self.seed))
        return self

    def _train(self, net: _Net, windows: torch.Tensor, rng: np.random.Generator) -> None:
        optimiser = torch.optim.Adam(net.parameters(), lr=self.lr, betas=(0.9, 0.98))
        net.train()
        for _ in range(self.epochs):
            order = torch.from_numpy(rng.permutation(len(windows)))
            for start in range(0, len(windows), self.train_batch):
                batch = windows[order[start : start + self.train_batch]]
                batch = batch[:, _first_used(batch) :]
                inputs, targets = batch[:, :-1], batch[:, 1:]
                used = (inputs != PAD) & (targets != PAD)
                hidden = net(inputs)[used]
                loss = self._loss(net, hidden, targets[used])
                optimiser.zero_grad()
                torch.autograd.backward(loss)
                optimiser.step()
        net.eval()

    def _loss(self, net: _Net, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Next-title loss of (positions, dim) hidden states against their (positions,) target tokens."""
        n_items = net.items.num_embeddings - 1
        if self.loss == "bce":
            negatives = torch.randint(1, n_items + 1, targets.shape)
            positive = (hidden * net.items(targets)).sum(-1)
            negative = (hidden * net.items(negatives)).sum(-1)
            return F.softplus(-positive).mean() + F.softplus(negative).mean()
        if not self.negatives:
            return F.cross_entropy(hidden @ net.items.weight[1:].T, targets - 1)
        # Sampled softmax: the target against `negatives` uniform titles shared by the batch; a negative that
        # is the position's own target does not count against it.
        sampled = torch.randint(1, n_items + 1, (self.negatives,))
        logits = torch.cat(
            [(hidden * net.items(targets)).sum(-1, keepdim=True), hidden @ net.items(sampled).T], 1
        )
        hits = torch.cat(
            [torch.zeros_like(targets, dtype=torch.bool).unsqueeze(1), sampled == targets.unsqueeze(1)], 1
        )
        return F.cross_entropy(logits.masked_fill(hits, -torch.inf), torch.zeros_like(targets))

    def _score_users(self, users: Sequence[int], rows: sp.csr_matrix) -> np.ndarray:
        assert self.net is not None and self._last is not None and self.matrix is not None
        index = np.maximum(np.searchsorted(self.matrix.user_ids, np.asarray(users, np.int64)), 0)
        index = np.minimum(index, len(self._last) - 1)  # unknown users: any row; recommend masks them
        tokens = torch.from_numpy(self._last[index])
        with self._threads(), torch.no_grad():
            last = self.net(tokens[:, _first_used(tokens) :])[:, -1]
            scores: np.ndarray = (last @ self.net.items.weight[1:].T).numpy()
        return scores

    @contextmanager
    def _threads(self) -> Iterator[None]:
        before = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def _sequences(train: Interactions, matrix: UserItemMatrix) -> list[np.ndarray]:
    """Each matrix row's titles as tokens, oldest first; equal timestamps (one rating session) by title id."""
    order = np.lexsort((train.items, train.timestamps, train.users))
    users = train.users[order]
    tokens = matrix.columns(train.items[order]) + 1
    bounds = np.flatnonzero(np.diff(users)) + 1
    return np.split(tokens, bounds)  # users in sorted order: the matrix's rows


def _windows(tokens: np.ndarray, length: int, *, every: bool) -> list[np.ndarray]:
    """Left-padded windows ending at the last title, then each where the one after it starts."""
    out = []
    for end in range(len(tokens), 1, -(length - 1)):
        out.append(_left_pad(tokens[max(0, end - length) : end], length))
        if not every:
            break
    return out


def _left_pad(tokens: np.ndarray, length: int) -> np.ndarray:
    row = np.full(length, PAD, np.int64)
    row[length - len(tokens) :] = tokens
    return row


def _first_used(batch: torch.Tensor) -> int:
    """The first column with a title in any row: left padding before it is trimmed (exact, being masked)."""
    used = (batch != PAD).any(dim=0).nonzero()
    return int(used[0]) if len(used) else batch.shape[1] - 1
