"""The one training loop every experiment shares. No Hydra here: it takes built objects.

A task provides `batches(batch_size, generator)`, `loss(model, batch)` and
`evaluate(model) -> {metric: float}`; the loop steps the optimizer through a closure (so
L-BFGS and Adam are driven alike), evaluates every `eval_every` steps, and stops early,
marking the trial diverged, when the loss or a metric stops being finite.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm


@dataclass
class TrainResult:
    status: str  # "complete" or "diverged"
    history: list[dict] = field(default_factory=list)  # one row per evaluation
    steps: int = 0
    train_time_s: float = 0.0  # optimizer steps only, evaluations excluded

    @property
    def ms_per_step(self) -> float:
        return 1000 * self.train_time_s / self.steps if self.steps else float("nan")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(model: nn.Module, task, optimizer: torch.optim.Optimizer, *, steps: int,
          eval_every: int, batch_size: int | None, generator: torch.Generator,
          device: torch.device, progress: bool = True) -> TrainResult:
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be >= 1, got steps={steps}, eval_every={eval_every}")
    result = TrainResult(status="complete")
    batches = task.batches(batch_size, generator)

    def evaluate(step: int, loss: float) -> bool:
        model.eval()
        metrics = task.evaluate(model)
        model.train()
        result.history.append({"step": step, "loss": loss, **metrics})
        return math.isfinite(loss) and all(math.isfinite(v) for v in metrics.values())

    evaluate(0, float("nan"))  # the untrained model, so curves start at step 0
    result.history[0]["loss"] = None
    bar = tqdm(range(1, steps + 1), disable=None if progress else True, leave=False,
               dynamic_ncols=True)
    start = time.perf_counter()
    for step in bar:
        batch = next(batches)

        def closure():
            optimizer.zero_grad(set_to_none=True)
            loss = task.loss(model, batch)
            loss.backward()
            return loss

        loss = optimizer.step(closure)
        if step % eval_every == 0 or step == steps:
            loss_value = float(loss.detach())  # syncs the device, so the clock below is honest
            _sync(device)
            result.train_time_s += time.perf_counter() - start
            result.steps = step
            finite = evaluate(step, loss_value)
            bar.set_postfix(loss=f"{loss_value:.3e}", refresh=False)
            if not finite:
                result.status = "diverged"
                break
            start = time.perf_counter()
    bar.close()
    return result
