"""The one training loop every experiment shares. No Hydra here: it takes built objects.

A task is an `experiments.harness.task.Task`. Training runs in phases (e.g. Adam, then L-BFGS), each
an optimizer, built over the trainable parameters when the phase starts, with a length in steps
or in epochs (passes over the task's training data, which the task converts to steps); every
optimizer is stepped through a closure, so both kinds are driven alike. The loop evaluates every `eval_every` steps of a phase (by default once per
epoch) and stops early, marking the trial diverged, when the loss or a metric stops being
finite.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from experiments.harness.checkpoint import random_state, set_random_state


@dataclass
class Phase:
    optimizer: Callable[[list[Tensor]], torch.optim.Optimizer]  # parameters -> optimizer (a partial)
    steps: int | None = None  # exactly one of steps and epochs
    epochs: int | None = None
    eval_every: int | None = None  # steps; None with epochs: once per epoch

    def resolve(self, task, batch_size: int | None) -> tuple[int, int]:
        """(steps, eval_every) of this phase for this task and batch size."""
        if (self.steps is None) == (self.epochs is None):
            raise ValueError(
                f"a training phase needs exactly one of steps and epochs, got steps={self.steps}, epochs={self.epochs}"
            )
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
    status: str = "complete"  # or "diverged"
    history: list[dict] = field(default_factory=list)  # one row per evaluation
    steps: int = 0
    train_time_s: float = 0.0  # optimizer steps only, evaluations excluded
    phase_steps: list[int] = field(default_factory=list)
    phase_times_s: list[float] = field(default_factory=list)
    block_ms: list[float] = field(default_factory=list)  # ms per step of each block between evaluations

    @property
    def ms_per_step(self) -> float:
        return 1000 * self.train_time_s / self.steps if self.steps else float("nan")

    @property
    def ms_per_step_phases(self) -> list[float]:
        return [1000 * t / n if n else float("nan") for t, n in zip(self.phase_times_s, self.phase_steps)]

    def record(self, step: int, phase: int, loss: float | None, metrics: dict[str, float]) -> bool:
        """Append an evaluation; False (and status diverged) when the loss or a metric is not finite."""
        self.history.append({"step": step, "phase": phase, "loss": loss, **metrics})
        finite = (loss is None or math.isfinite(loss)) and all(math.isfinite(v) for v in metrics.values())
        if not finite:
            self.status = "diverged"
        return finite

    @property
    def median_ms_per_step(self) -> float:
        """The median over the evaluation blocks of their ms per step: a run's step time that a slow block
        (a loaded machine, the first block's warm-up) moves less than the mean."""
        return statistics.median(self.block_ms) if self.block_ms else float("nan")

    def clock(self, seconds: float, phase_steps: int, step: int) -> None:
        if step > self.steps:
            self.block_ms.append(1000 * seconds / (step - self.steps))
        self.train_time_s += seconds
        self.phase_times_s[-1] += seconds
        self.phase_steps[-1] = phase_steps
        self.steps = step


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def evaluate(model: nn.Module, task) -> dict[str, float]:
    model.eval()
    metrics = task.evaluate(model)
    model.train()
    return metrics


def _evaluate(model: nn.Module, task, head) -> dict[str, float]:
    if head is None:
        return evaluate(model, task)
    head.fit(None)  # the head for the current theta, over every training point
    return {**evaluate(model, task), **head.info}


def train(
    model: nn.Module,
    task,
    phases: list[Phase],
    *,
    batch_size: int | None,
    generator: torch.Generator,
    device: torch.device,
    progress: bool = True,
    result: TrainResult | None = None,
    batches: Iterator | None = None,
    head=None,
    checkpoint=None,
    monitor: Callable[[int, dict[str, float]], bool] | None = None,
) -> TrainResult:
    """Run the phases in order; steps in the history are counted across phases.

    result and batches continue a training whose earlier phases ran elsewhere (the seed ensemble
    runs its L-BFGS phase per seed): the history goes on from result's last step and phase.
    head: an experiments.harness.lsq.HeadSolver: the head is solved by least squares before every loss
    (so L-BFGS's line search sees the reduced loss too) and, on all training points, before every
    evaluation; the optimizers step the other parameters, and the history records each solve.
    checkpoint: an experiments.harness.checkpoint.Checkpoint: saved at evaluation points when due, and, when
    one is there, training continues from it (the batch stream replayed to its step).
    monitor: called with (step, metrics) after every evaluation but the untrained model's; when it returns
    False the run stops there with status "pruned" (a tuning study's pruner: hydra_plugins/gmnm_tuner).
    """
    if not phases:
        raise ValueError("train: no training phase given")
    plan = [phase.resolve(task, batch_size) for phase in phases]
    batches = batches if batches is not None else task.batches(batch_size, generator)
    first_phase = 0 if result is None else len(result.phase_steps)
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        for _ in range(saved["step"] - (result.steps if result is not None else 0)):
            next(batches)  # the batches the saved run drew: the stream goes on where it stopped
        result = TrainResult(**saved["result"])
        set_random_state(saved["random"])
    elif result is None:
        result = TrainResult()
        result.record(0, 0, None, _evaluate(model, task, head))  # the untrained model: curves start at step 0
    solved = {id(p) for p in head.params} if head is not None else set()
    params = [p for p in model.parameters() if p.requires_grad and id(p) not in solved]
    bar = tqdm(
        total=sum(steps for steps, _ in plan), disable=None if progress else True, leave=False, dynamic_ncols=True
    )
    step = result.steps
    for phase, spec, (steps, eval_every) in zip(range(first_phase, first_phase + len(plan)), phases, plan):
        if saved is not None and phase < saved["phase"]:
            bar.update(steps)
            continue  # finished before the checkpoint
        optimizer = spec.optimizer(params)
        begin = 0
        if saved is not None and phase == saved["phase"]:
            optimizer.load_state_dict(saved["optimizer"])
            begin = saved["phase_step"]
            bar.update(begin)
        else:
            result.phase_steps.append(0)
            result.phase_times_s.append(0.0)
        start = time.perf_counter()
        for i in range(begin, steps):
            step += 1
            batch = next(batches)

            def closure():  # called by optimizer.step below, within this iteration: its names are current
                optimizer.zero_grad(set_to_none=True)  # noqa: B023 (this iteration's optimizer)
                if head is not None:
                    head.fit(batch)  # noqa: B023 (w*(theta): the loss below is then the reduced loss F(theta))
                loss = task.loss(model, batch)  # noqa: B023 (this iteration's batch)
                loss.backward()
                return loss

            loss = optimizer.step(closure)
            bar.update()
            if (i + 1) % eval_every == 0 or i == steps - 1:
                loss_value = float(loss.detach())  # syncs the device, so the clock below is honest
                sync(device)
                result.clock(time.perf_counter() - start, i + 1, step)
                bar.set_postfix(loss=f"{loss_value:.3e}", refresh=False)
                if not result.record(step, phase, loss_value, _evaluate(model, task, head)):
                    bar.close()
                    return result
                if monitor is not None and not monitor(step, result.history[-1]):
                    result.status = "pruned"
                    bar.close()
                    return result
                if checkpoint is not None and checkpoint.due():
                    checkpoint.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                     "result": dataclasses.asdict(result), "random": random_state(),
                                     "phase": phase, "phase_step": i + 1, "step": step})  # fmt: skip
                start = time.perf_counter()
    bar.close()
    return result
