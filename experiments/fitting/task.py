"""Function-fitting task (§4.1): regress a target T on points sampled from a box.

Choices where the paper is silent (all config keys of `FitTask`):
- domain [-4, 4]^d: the smallest symmetric box with integer bounds that holds U's support
  [-3.5, -2.0] x [2.0, 3.0].
- points drawn uniformly at random from the box, train and test independently, from a data
  seed separate from the model seed (pykan's `create_dataset` samples the same way).
- inputs mapped affinely to [-1, 1]^d before any model sees them (KAN grids and GMNM centres
  are initialized on [-1, 1]); targets standardized with the train mean and std, the loss
  is the MSE of the standardized target. Metrics are reported in the target's own units
  (`*_mse`) and relative to the target's train variance (`*_nmse`), so levels compare.
- a validation split (`val_*`), fresh points from a stream of its own: what model selection and
  tuning read; the training and test points are as they were without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import torch
from torch import Tensor, nn

from experiments.fitting.targets import LEVELS, target
from experiments.harness.batching import tensor_batches
from experiments.harness.lsq import design
from experiments.harness.schema import SEED, SWITCH, Rule, count
from experiments.harness.task import validation_generator


class FitTask:
    # the keys a user may override, and what each allows (the one config check: experiments/harness/schema.py)
    config_keys: ClassVar[dict[str, Rule]] = {
        "task.dim": Rule(int, choices=(1, 2)),
        "task.level": Rule(int, choices=(0, 1, 2, 3)),
        "task.n_train": count(2),  # the target is standardised by the training set's variance
        "task.n_test": count(),
        "task.data_seed": SEED,
        "task.sigma": Rule(str, choices=("lower", "literal")),
        "task.standardize_target": SWITCH,
    }

    def __init__(
        self,
        dim: int,
        level: int,
        domain: tuple[float, float] = (-4.0, 4.0),
        n_train: int = 1000,
        n_test: int = 1000,
        data_seed: int = 0,
        sigma: str = "lower",
        standardize_target: bool = True,
    ):
        if dim not in (1, 2):
            raise ValueError(f"FitTask: dim must be 1 or 2, got {dim!r}")
        if level not in range(len(LEVELS)):
            raise ValueError(f"FitTask: level must be 0..{len(LEVELS) - 1}, got {level!r}")
        low, high = (float(v) for v in domain)
        if not high > low:
            raise ValueError(f"FitTask: domain must be (low, high) with high > low, got {domain!r}")
        self.dim, self.level, self.domain = dim, level, (low, high)
        self.n_train, self.n_test, self.data_seed = n_train, n_test, data_seed
        self.sigma, self.standardize_target = sigma, standardize_target

    def target(self, x: Tensor) -> Tensor:
        """Exact target at points x (N, dim) in domain units, float64 -> (N,)."""
        return target(x, self.level, self.sigma)

    def to_model_input(self, x: Tensor) -> Tensor:
        low, high = self.domain
        return (x - (low + high) / 2) / ((high - low) / 2)  # box -> [-1, 1]^dim

    def example_input(self, n: int) -> Tensor:
        """A batch of n inputs of the shape models of this task take (for checks and benchmarks)."""
        return torch.zeros(n, self.dim)

    def setup(self, device: torch.device, dtype: torch.dtype) -> None:
        g = torch.Generator().manual_seed(self.data_seed)
        low, high = self.domain

        def sample(n: int) -> tuple[Tensor, Tensor]:
            x = low + (high - low) * torch.rand(n, self.dim, generator=g, dtype=torch.float64)
            return x, self.target(x)

        x_train, y_train = sample(self.n_train)
        x_test, y_test = sample(self.n_test)
        self.y_mean = float(y_train.mean()) if self.standardize_target else 0.0
        self.y_std = float(y_train.std()) if self.standardize_target else 1.0
        self.y_var = float(y_train.var())

        def prepare(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
            u = self.to_model_input(x).to(device, dtype)
            v = ((y - self.y_mean) / self.y_std).unsqueeze(-1).to(device, dtype)  # (N, 1)
            return u, v

        self.train_set = prepare(x_train, y_train)
        self.test_set = prepare(x_test, y_test)
        g = validation_generator(self.data_seed)  # a validation split, for model selection
        self.val_set = prepare(*sample(max(2, self.n_train // 5)))

    def title(self) -> str:
        a, b, c = LEVELS[self.level]
        return f"T(x) in {self.dim}-D on {list(self.domain)}^{self.dim}, level {self.level} (a, b, c) = ({a:g}, {b:g}, {c:g})"

    def steps_per_epoch(self, batch_size: int | None) -> int:
        # the partial last batch is dropped (see batches)
        return 1 if batch_size is None else max(1, self.n_train // batch_size)

    def batches(self, batch_size: int | None, generator: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
        return tensor_batches(*self.train_set, batch_size, generator, drop_last=True)

    def loss(self, model: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        x, y = batch
        return (model(x) - y).square().mean()

    def lsq_system(self, head, batch: tuple[Tensor, Tensor] | None) -> tuple[Tensor, Tensor]:
        """(A, b) with ||A w - b||^2 the loss on the batch (None: the training set) when the head
        (experiments/harness/lsq.py) holds w: the features at the points, rows over sqrt(N) (a mean)."""
        x, y = self.train_set if batch is None else batch  # (N, d), (N, 1)
        root = x.shape[0] ** 0.5
        return design(head, x) / root, y / root

    @torch.no_grad()
    def validation_loss(self, model: nn.Module) -> Tensor:
        """The training loss on the validation split: what model selection may look at."""
        x, y = self.val_set
        return (model(x) - y).square().mean()

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        out = {}
        for split, (x, y) in (("train", self.train_set), ("val", self.val_set), ("test", self.test_set)):
            mse_std = float((model(x) - y).square().mean())
            out[f"{split}_mse"] = mse_std * self.y_std**2
            out[f"{split}_nmse"] = mse_std * self.y_std**2 / self.y_var
        return out
