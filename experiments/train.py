"""The one training loop every experiment shares. No Hydra here: it takes built objects.

A task is an `experiments.task.Task`. Training runs in phases (e.g. Adam, then L-BFGS), each
an optimizer with a length in steps or in epochs (passes over the task's training data, which
the task converts to steps); every optimizer is stepped through a closure, so both kinds are
driven alike. The loop evaluates every `eval_every` steps of a phase (by default once per
epoch) and stops early, marking the trial diverged, when the loss or a metric stops being
finite.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm


@dataclass
class Phase:
    optimizer: torch.optim.Optimizer
    steps: int | None = None  # exactly one of steps and epochs
    epochs: int | None = None
    eval_every: int | None = None  # steps; None with epochs: once per epoch

    def resolve(self, task, batch_size: int | None) -> tuple[int, int]:
        """(steps, eval_every) of this phase for this task and batch size."""
        if (self.steps is None) == (self.epochs is None):
            raise ValueError(f"a training phase needs exactly one of steps and epochs, got steps={self.steps}, "
                             f"epochs={self.epochs}")
        if self.epochs is not None:
            per_epoch = task.steps_per_epoch(batch_size)
            steps, every = self.epochs * per_epoch, self.eval_every or per_epoch
            name = f"epochs={self.epochs}"
        else:
            steps, every, name = self.steps, self.eval_every, f"steps={self.steps}"
        if steps < 1 or every is None or every < 1:
            raise ValueError(f"a training phase needs {name} >= 1 and eval_every >= 1, got eval_every={every}")
        return steps, every


@dataclass
class TrainResult:
    status: str  # "complete" or "diverged"
    history: list[dict] = field(default_factory=list)  # one row per evaluation
    steps: int = 0
    train_time_s: float = 0.0  # optimizer steps only, evaluations excluded
    phase_steps: list[int] = field(default_factory=list)
    phase_times_s: list[float] = field(default_factory=list)

    @property
    def ms_per_step(self) -> float:
        return 1000 * self.train_time_s / self.steps if self.steps else float("nan")

    @property
    def ms_per_step_phases(self) -> list[float]:
        return [1000 * t / n if n else float("nan") for t, n in zip(self.phase_times_s, self.phase_steps)]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(model: nn.Module, task, phases: list[Phase], *, batch_size: int | None, generator: torch.Generator,
          device: torch.device, progress: bool = True) -> TrainResult:
    """Run the phases in order; steps in the history are counted across phases."""
    if not phases:
        raise ValueError("train: no training phase given")
    plan = [(phase.optimizer, *phase.resolve(task, batch_size)) for phase in phases]
    total = sum(steps for _, steps, _ in plan)
    result = TrainResult(status="complete")
    batches = task.batches(batch_size, generator)

    def evaluate(step: int, phase: int, loss: float | None) -> bool:
        model.eval()
        metrics = task.evaluate(model)
        model.train()
        result.history.append({"step": step, "phase": phase, "loss": loss, **metrics})
        return (loss is None or math.isfinite(loss)) and all(math.isfinite(v) for v in metrics.values())

    evaluate(0, 0, None)  # the untrained model, so curves start at step 0
    bar = tqdm(total=total, disable=None if progress else True, leave=False, dynamic_ncols=True)
    step = 0
    for phase, (optimizer, steps, eval_every) in enumerate(plan):
        result.phase_steps.append(0)
        result.phase_times_s.append(0.0)
        start = time.perf_counter()
        for _ in range(steps):
            step += 1
            batch = next(batches)

            def closure():
                optimizer.zero_grad(set_to_none=True)
                loss = task.loss(model, batch)
                loss.backward()
                return loss

            loss = optimizer.step(closure)
            bar.update()
            if (_ + 1) % eval_every == 0 or _ == steps - 1:
                loss_value = float(loss.detach())  # syncs the device, so the clock below is honest
                _sync(device)
                elapsed = time.perf_counter() - start
                result.train_time_s += elapsed
                result.phase_times_s[-1] += elapsed
                result.phase_steps[-1] = _ + 1
                result.steps = step
                finite = evaluate(step, phase, loss_value)
                bar.set_postfix(loss=f"{loss_value:.3e}", refresh=False)
                if not finite:
                    result.status = "diverged"
                    bar.close()
                    return result
                start = time.perf_counter()
    bar.close()
    return result
