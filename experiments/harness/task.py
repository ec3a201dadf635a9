"""The Task contract: what the runner and the training loop ask of an experiment.

A task owns its data and its maths (loss, metrics); it knows nothing of Hydra, the store or
the optimizer. Its class declares `config_keys` (the keys a user may override and what each allows,
read by experiments/harness/schema.py), its family registers it with its report
(experiments/harness/registry.py), and an experiment file names it (`task._target_`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Protocol, runtime_checkable

import torch
from torch import Tensor, nn


@runtime_checkable
class Task(Protocol):
    config_keys: ClassVar[dict]  # dotted key -> experiments.harness.schema.Rule: what a user may set

    def setup(self, device: torch.device, dtype: torch.dtype) -> None:
        """Build or load the data on the training device; called once per trial, before training."""

    def example_input(self, n: int) -> Tensor:
        """A batch of n inputs of the shape this task's models take (checks and benchmarks; no data needed)."""

    def steps_per_epoch(self, batch_size: int | None) -> int:
        """Optimizer steps in one pass over the training data (1 when training is full batch)."""

    def batches(self, batch_size: int | None, generator: torch.Generator) -> Iterator[Any]:
        """Endless training batches, their order drawn from `generator` (seeded by the trial)."""

    def loss(self, model: nn.Module, batch: Any) -> Tensor:
        """The scalar training loss of `model` on one batch."""

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Metrics of the model on every split, each a float; called with the model in eval mode."""

    def title(self) -> str:
        """The problem in one line, e.g. the PDE solved: a heading for the report (records keep it as `problem`)."""


# Optional: `artifacts(model) -> dict`, small outputs kept in the record for the report (images);
# `fetch() -> str`, the data set on disk before a sweep starts (experiments/harness/fetch.py);
# `lsq_system(head, batch)` and `validation_loss(model)`, for the least-squares head (harness/lsq.py).


def validation_generator(data_seed: int) -> torch.Generator:
    """The generator a task draws its validation points from (model selection: the least-squares
    head's width): a stream apart from the data seed's own, so train and test data stay as they were."""
    return torch.Generator().manual_seed(1_000_003 + data_seed)
