"""Mini-batches from tensors already on the training device: index views, no DataLoader.

Small models on small data sets are dominated by per-step overhead, so every task keeps its
whole data set in memory once and batches by indexing it.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor


def tensor_batches(
    x: Tensor, y: Tensor, batch_size: int | None, generator: torch.Generator, drop_last: bool = False
) -> Iterator[tuple[Tensor, Tensor]]:
    """Endless (x, y) batches: the full set when batch_size is None (or covers it), else one
    shuffled pass per epoch, order drawn from `generator` (so it is seeded by the trial)."""
    if batch_size is None or (drop_last and batch_size >= len(x)):
        while True:
            yield x, y
    stop = len(x) - batch_size + 1 if drop_last else len(x)
    while True:
        order = torch.randperm(len(x), generator=generator).to(x.device)
        for i in range(0, stop, batch_size):
            idx = order[i : i + batch_size]
            yield x[idx], y[idx]
