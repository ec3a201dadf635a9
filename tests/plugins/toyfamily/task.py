"""Fit sin(frequency * x) on [-1, 1]: the Task contract (experiments/harness/task.py) in a few lines."""

from typing import ClassVar

import torch
from torch import Tensor, nn

from experiments.harness.schema import Rule, count


class SineTask:
    config_keys: ClassVar[dict[str, Rule]] = {  # what the one config check holds this task's keys to
        "task.frequency": Rule(float, low=0, open_low=True),
        "task.n_points": count(2),
    }

    def __init__(self, frequency: float = 3.0, n_points: int = 64):
        self.frequency, self.n_points = frequency, n_points

    def setup(self, device: torch.device, dtype: torch.dtype) -> None:
        x = torch.linspace(-1, 1, self.n_points, device=device, dtype=dtype)[:, None]
        self.x, self.y = x, torch.sin(self.frequency * x)

    def example_input(self, n: int) -> Tensor:
        return torch.zeros(n, 1)

    def steps_per_epoch(self, batch_size: int | None) -> int:
        return 1

    def batches(self, batch_size, generator):
        while True:
            yield self.x, self.y

    def loss(self, model: nn.Module, batch) -> Tensor:
        x, y = batch
        return (model(x) - y).square().mean()

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        with torch.no_grad():
            return {"test_mse": float((model(self.x) - self.y).square().mean())}

    def title(self) -> str:
        return f"sin({self.frequency:g} x) on [-1, 1]"
