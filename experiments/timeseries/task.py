"""Forecasting y(t) of Eq. 5 from the last ten steps of the four latent signals (§5.3).

Choices where the paper is silent (config keys of `TimeSeriesTask`):
- a_i ~ U(a_range), b_i ~ U(b_range), drawn once from `data_seed` (separate from the model seed),
  so every model and seed sees the same series.
- the split is chronological: the first 80 % of the windows train, the last 20 % test. Windows
  overlap their neighbours, so a random split would put near-copies of test windows in the
  training set; a chronological split is the honest reading of "forecasting".
- the last `val_fraction` of all windows before the test window validate (tuning and model
  selection read them, never the test window); the training windows are the ones before.
- inputs and target are used as generated (no scaling), so MSEs compare with Table 6's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import ClassVar

import torch
from torch import Tensor, nn

from experiments.harness.batching import tensor_batches
from experiments.harness.schema import FRACTION, SEED, Rule, count
from experiments.timeseries.data import windows

SPLITS = ("chronological", "random")


class TimeSeriesTask:
    # the keys a user may override, and what each allows (the one config check: experiments/harness/schema.py)
    config_keys: ClassVar[dict[str, Rule]] = {
        "task.n_samples": count(2),
        "task.window": count(),
        "task.train_fraction": Rule(float, low=0, high=1, open_low=True, open_high=True),
        "task.val_fraction": FRACTION,
        "task.split": Rule(str, choices=("chronological", "random")),
        "task.data_seed": SEED,
    }

    def __init__(
        self,
        n_samples: int = 10_000,
        window: int = 10,
        t_range: tuple[float, float] = (0.5, 100.0),
        delays: tuple[float, float, float, float] = (1.0, 5.0, 1.0, 2.0),
        train_fraction: float = 0.8,
        val_fraction: float = 0.0,
        split: str = "chronological",
        data_seed: int = 0,
        a_range: tuple[float, float] = (0.5, 1.5),
        b_range: tuple[float, float] = (-0.5, 0.5),
    ):
        if split not in SPLITS:
            raise ValueError(f"TimeSeriesTask: split must be one of {SPLITS}, got {split!r}")
        if not 0 < train_fraction < 1:
            raise ValueError(f"TimeSeriesTask: train_fraction must be in (0, 1), got {train_fraction}")
        if not 0 <= val_fraction < train_fraction:
            raise ValueError(f"TimeSeriesTask: val_fraction must be in [0, train_fraction), got {val_fraction}")
        if len(delays) != 4:
            raise ValueError(f"TimeSeriesTask: delays must be four numbers (d1, d2, d3, d4), got {delays!r}")
        self.n_samples, self.window, self.t_range = n_samples, window, tuple(t_range)
        self.delays, self.train_fraction, self.val_fraction, self.split = (
            tuple(delays),
            train_fraction,
            val_fraction,
            split,
        )
        self.data_seed, self.a_range, self.b_range = data_seed, tuple(a_range), tuple(b_range)
        self.in_features = 4

    def example_input(self, n: int) -> Tensor:
        """A batch of n inputs of the shape models of this task take (for checks and benchmarks)."""
        return torch.zeros(n, self.window, self.in_features)

    def setup(self, device: torch.device, dtype: torch.dtype) -> None:
        g = torch.Generator().manual_seed(self.data_seed)

        def uniform(low: float, high: float) -> Tensor:
            return low + (high - low) * torch.rand(4, generator=g, dtype=torch.float64)

        self.a, self.b = uniform(*self.a_range), uniform(*self.b_range)
        x, y = windows(self.n_samples, self.window, self.t_range, self.a, self.b, self.delays)
        n_train = int(round(self.train_fraction * self.n_samples))
        order = (
            torch.arange(self.n_samples)
            if self.split == "chronological"
            else torch.randperm(self.n_samples, generator=g)
        )
        n_val = int(round(self.val_fraction * self.n_samples))
        train, val, test = order[: n_train - n_val], order[n_train - n_val : n_train], order[n_train:]
        # Whole data set on the training device once; batches are index views, no DataLoader.
        self.train_set = (x[train].to(device, dtype), y[train].to(device, dtype))
        self.splits = {"train": self.train_set, "test": (x[test].to(device, dtype), y[test].to(device, dtype))}
        if n_val:
            self.splits["val"] = (x[val].to(device, dtype), y[val].to(device, dtype))
        self.test_set = self.splits["test"]

    def title(self) -> str:
        val = f", {self.val_fraction:g} validation" if self.val_fraction else ""
        return (
            f"Eq. 5, delays {list(self.delays)}, {self.n_samples} windows of {self.window}, "
            f"{self.split} split{val}, data seed {self.data_seed}"
        )

    def steps_per_epoch(self, batch_size: int | None) -> int:
        n = len(self.train_set[0])
        return 1 if batch_size is None else math.ceil(n / batch_size)

    def batches(self, batch_size: int | None, generator: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
        # one shuffled pass per epoch; the last batch may be smaller (as in Keras)
        return tensor_batches(*self.train_set, batch_size, generator, drop_last=False)

    def loss(self, model: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        x, y = batch
        return (model(x) - y).square().mean()

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        return {f"{split}_mse": float((model(x) - y).square().mean()) for split, (x, y) in self.splits.items()}
