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


class Solo:
    """One model (and its least-squares head) stepped through a closure: any optimizer, L-BFGS's line search
    included. The other stack the loop trains is experiments.harness.ensemble.Stacked (seeds as one model)."""

    def __init__(self, model: nn.Module, task, head=None):
        self.model, self.task, self.head, self.size = model, task, head, 1
        solved = {id(p) for p in head.params} if head is not None else set()
        self.trainable = [p for p in model.parameters() if p.requires_grad and id(p) not in solved]

    def accepts(self, optimizer: torch.optim.Optimizer) -> bool:
        return True

    def closure(self, optimizer: torch.optim.Optimizer, batches: list) -> Callable[[], Tensor]:
        """The step's loss and gradients, for optimizer.step (which may call it several times: L-BFGS)."""
        (batch,) = batches

        def closure():
            optimizer.zero_grad(set_to_none=True)
            if self.head is not None:
                self.head.fit(batch)  # w*(theta): the loss below is then the reduced loss F(theta)
            loss = self.task.loss(self.model, batch)
            loss.backward()
            return loss

        return closure

    def values(self, loss: Tensor) -> list[float]:
        return [float(loss.detach())]

    def refresh(self) -> None:
        """Nothing to do: the model is its own view."""

    def evaluate(self, s: int) -> dict[str, float]:
        return _evaluate(self.model, self.task, self.head)

    def state(self) -> dict:
        return {"model": self.model.state_dict()}

    def load(self, saved: dict) -> None:
        self.model.load_state_dict(saved["model"])


def run_phases(
    stack,
    task,
    phases: list[Phase],
    *,
    batch_size: int | None,
    streams: list[Iterator],
    device: torch.device,
    progress: bool = True,
    results: list[TrainResult] | None = None,
    checkpoint=None,
    monitor: Callable[[int, dict[str, float]], bool] | None = None,
) -> tuple[list[TrainResult], int | None]:
    """The one training loop: the phases in order for the stack's models (`stack.size` of them, each drawing
    from its own batch stream), steps counted across phases; (one result per model, the index of the first
    phase the stack cannot run, which its caller runs model by model, or None).

    results continue a training whose earlier phases ran elsewhere (the phases of a stack): the histories go on
    from their last step and phase. checkpoint: saved at evaluation points when due, and, when one is there,
    training continues from it (the batch streams replayed to its step). monitor: told (step, metrics) after
    every evaluation but the untrained model's; False stops the run there with status "pruned".
    """
    if not phases:
        raise ValueError("train: no training phase given")
    plan = [phase.resolve(task, batch_size) for phase in phases]
    first_phase = 0 if results is None else len(results[0].phase_steps)
    start_step = 0 if results is None else results[0].steps
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None:
        stack.load(saved["params"])
        for stream in streams:
            for _ in range(saved["step"] - start_step):
                next(stream)  # the batches the saved run drew: the streams go on where they stopped
        results = [TrainResult(**r) for r in saved["results"]]
        set_random_state(saved["random"], device)
    elif results is None:
        results = [TrainResult() for _ in range(stack.size)]
        for s, result in enumerate(results):  # the untrained models: curves start at step 0
            result.record(0, 0, None, stack.evaluate(s))
    alive = [s for s, r in enumerate(results) if r.status == "complete"]

    def save(optimizer, phase: int, phase_step: int) -> None:
        checkpoint.save({"params": stack.state(), "optimizer": None if optimizer is None else optimizer.state_dict(),
                         "results": [dataclasses.asdict(r) for r in results], "random": random_state(device),
                         "phase": phase, "phase_step": phase_step, "step": step})  # fmt: skip

    bar = tqdm(
        total=sum(steps for steps, _ in plan), disable=None if progress else True, leave=False, dynamic_ncols=True
    )
    step = results[0].steps if saved is None else saved["step"]
    for phase, spec, (steps, eval_every) in zip(range(first_phase, first_phase + len(plan)), phases, plan):
        if saved is not None and phase < saved["phase"]:
            bar.update(steps)
            continue  # finished before the checkpoint
        optimizer = spec.optimizer(stack.trainable)
        if not stack.accepts(optimizer):  # e.g. L-BFGS over a stack of seeds: its caller runs it seed by seed
            bar.close()
            stack.refresh()
            if checkpoint is not None and (saved is None or saved["phase"] < phase):  # the stack's end, kept
                save(None, phase, 0)
            return results, phase - first_phase
        begin = 0
        if saved is not None and phase == saved["phase"]:
            optimizer.load_state_dict(saved["optimizer"])
            begin = saved["phase_step"]
            bar.update(begin)
        else:
            for result in results:
                result.phase_steps.append(0)
                result.phase_times_s.append(0.0)
        start = time.perf_counter()
        for i in range(begin, steps):
            step += 1
            loss = optimizer.step(stack.closure(optimizer, [next(stream) for stream in streams]))
            bar.update()
            if (i + 1) % eval_every == 0 or i == steps - 1:
                values = stack.values(loss)  # syncs the device, so the clock below is honest
                sync(device)
                share = (time.perf_counter() - start) / stack.size  # a stack's time, split evenly
                bar.set_postfix(loss=f"{values[0]:.3e}", refresh=False)
                stack.refresh()
                for s in list(alive):
                    results[s].clock(share, i + 1, step)
                    if not results[s].record(step, phase, values[s], stack.evaluate(s)):
                        alive.remove(s)  # diverged: stops here
                    elif monitor is not None and not monitor(step, results[s].history[-1]):
                        results[s].status = "pruned"
                        alive.remove(s)
                if not alive:
                    bar.close()
                    return results, None
                if checkpoint is not None and checkpoint.due():
                    save(optimizer, phase, i + 1)
                start = time.perf_counter()
    bar.close()
    return results, None


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
    """One model through the phases (run_phases); its result.

    result and batches continue a training whose earlier phases ran elsewhere (a stack of seeds runs
    its L-BFGS phase per seed). head: an experiments.harness.lsq.HeadSolver: the head is solved by least squares
    before every loss (so L-BFGS's line search sees the reduced loss too) and, on all training points, before
    every evaluation; the optimizers step the other parameters, and the history records each solve.
    checkpoint, monitor: as run_phases takes them.
    """
    (out,), _ = run_phases(
        Solo(model, task, head),
        task,
        phases,
        batch_size=batch_size,
        streams=[batches if batches is not None else task.batches(batch_size, generator)],
        device=device,
        progress=progress,
        results=None if result is None else [result],
        checkpoint=checkpoint,
        monitor=monitor,
    )
    return out
