"""Many seeds of one trial configuration, trained in one process as one batched computation.

Each seed's model is built exactly as its sequential trial builds it (same initialisation); the
parameters of the S models are stacked into tensors with a leading seed dimension
(torch.func.stack_module_state), and every step evaluates the task's own loss for each seed under
torch.func.vmap. The sum of the S losses is differentiated once and one optimizer steps the
stacked tensors. Seeds stay independent: each loss depends only on its own parameters, and
elementwise optimizers (Adam, AdamW, SGD) update each number from its own gradient alone. Each
seed draws its batches from its own generator, as its sequential trial does. A phase whose
optimizer couples the numbers it updates (L-BFGS: one line search for all of them) runs per seed,
from where the stack left off. Results match the sequential trials up to the order of floating
point sums (tests: float64, rtol 1e-6 over 50 steps).

Modules that need a vmap-friendly form provide `prepare_for_vmap()` (the LSTM unrolls its
recurrence); a module with `vectorizable = False` (pykan's own KAN) is trained seed by seed.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Iterator

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap
from tqdm.auto import tqdm

from experiments.harness.checkpoint import random_state, set_random_state
from experiments.harness.train import Phase, TrainResult, evaluate, sync, train

log = logging.getLogger(__name__)
ELEMENTWISE = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)


def vectorizable(model: nn.Module) -> bool:
    """False where any module says `vectorizable = False` (its class, or the instance: KAN's impl decides)."""
    return all(getattr(m, "vectorizable", True) for m in model.modules())


class _Method(nn.Module):
    """Calls `name` of the wrapped module as its forward, so functional_call can reach it."""

    def __init__(self, module: nn.Module, name: str):
        super().__init__()
        self.module, self.name = module, name

    def forward(self, *args):
        return getattr(self.module, self.name)(*args)


class Member:
    """One seed's model inside vmap: the template module called with that seed's parameters.
    Tasks call it like the module (and `laplacian`, where the module has one)."""

    functional = True  # tasks that differentiate the model twice use torch.func with it

    def __init__(self, base: nn.Module, tensors: dict[str, Tensor]):
        self.base, self.tensors = base, tensors
        if hasattr(base, "laplacian"):
            self.laplacian = self._laplacian

    def __call__(self, x: Tensor) -> Tensor:
        return functional_call(self.base, self.tensors, (x,))

    def _laplacian(self, x: Tensor) -> Tensor:
        method = _Method(self.base, "laplacian")
        return functional_call(method, {f"module.{k}": v for k, v in self.tensors.items()}, (x,))


def _stack_batches(items: list):
    """One batch per seed -> (batch, vmap in_dims): shared when every seed has the same object
    (full-batch tasks), else stacked along a leading seed dimension."""
    if all(item is items[0] for item in items):
        return items[0], None
    if isinstance(items[0], tuple):
        return tuple(torch.stack(parts) for parts in zip(*items)), 0  # each (S, B, ...)
    return torch.stack(items), 0


def train_ensemble(
    models: list[nn.Module],
    task,
    phases: list[Phase],
    *,
    batch_size: int | None,
    generators: list[torch.Generator],
    device: torch.device,
    progress: bool = True,
    checkpoint=None,
    seed_checkpoints: list | None = None,
) -> list[TrainResult]:
    """Train each model as `experiments.harness.train.train` would, all at once; one result per model.
    checkpoint: the group's (experiments.harness.checkpoint), saved while the seeds train stacked, and
    resumed from; seed_checkpoints: each seed's, for the phases that run per seed (and when the models
    cannot be vectorised)."""
    seed_checkpoints = seed_checkpoints or [None] * len(models)
    if not all(vectorizable(m) for m in models):
        log.info("%s cannot be vectorised: its %d seeds train one after another", type(models[0]).__name__, len(models))
        return [
            train(m, task, phases, batch_size=batch_size, generator=g, device=device, progress=progress, checkpoint=c)
            for m, g, c in zip(models, generators, seed_checkpoints)
        ]
    plan = [phase.resolve(task, batch_size) for phase in phases]
    results = [TrainResult() for _ in models]
    for result, model in zip(results, models):
        result.record(0, 0, None, evaluate(model, task))
    batches: list[Iterator] = [task.batches(batch_size, g) for g in generators]
    base = copy.deepcopy(models[0])
    for module in base.modules():
        if hasattr(module, "prepare_for_vmap"):
            module.prepare_for_vmap()
    params, buffers = stack_module_state(models)  # {name: (S, ...)}
    trainable = [p for p in params.values() if p.requires_grad]
    alive = list(range(len(models)))
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None:  # the stacked tensors, histories and batch streams where the group's run stopped
        with torch.no_grad():
            for name, tensor in [*params.items(), *buffers.items()]:
                tensor.copy_(saved["tensors"][name])
        results = [TrainResult(**r) for r in saved["results"]]
        alive = list(saved["alive"])
        for b in batches:
            for _ in range(saved["step"]):
                next(b)
        set_random_state(saved["random"])

    def seed_loss(p: dict, b: dict, batch) -> Tensor:
        return task.loss(Member(base, {**p, **b}), batch)

    bar = tqdm(
        total=sum(steps for steps, _ in plan), disable=None if progress else True, leave=False, dynamic_ncols=True
    )
    step = saved["step"] if saved is not None else 0
    for index, (spec, (steps, eval_every)) in enumerate(zip(phases, plan)):
        if saved is not None and index < saved["phase"]:
            continue  # finished before the checkpoint
        optimizer = spec.optimizer(trainable)
        if not isinstance(optimizer, ELEMENTWISE):  # e.g. L-BFGS: per seed, from the stack's state
            bar.close()
            _unstack(params, buffers, models)
            if checkpoint is not None and (saved is None or saved["phase"] < index):  # the stack's end, kept
                _save(checkpoint, params, buffers, None, results, alive, index, 0, step)
            for s in alive:
                results[s] = train(  # the same result, or the one its own checkpoint resumed
                    models[s],
                    task,
                    phases[index:],
                    batch_size=batch_size,
                    generator=generators[s],
                    device=device,
                    progress=progress,
                    result=results[s],
                    batches=batches[s],
                    checkpoint=seed_checkpoints[s],
                )
            return results
        begin = 0
        if saved is not None and index == saved["phase"]:
            optimizer.load_state_dict(saved["optimizer"])
            begin = saved["phase_step"]
        else:
            for result in results:
                result.phase_steps.append(0)
                result.phase_times_s.append(0.0)
        bar.update(step)
        start = time.perf_counter()
        for i in range(begin, steps):
            step += 1
            batch, in_dim = _stack_batches([next(b) for b in batches])
            optimizer.zero_grad(set_to_none=True)
            losses = vmap(seed_loss, in_dims=(0, 0, in_dim))(params, buffers, batch)  # (S,)
            losses.sum().backward()  # each seed's parameters get their own loss's gradient
            optimizer.step()
            bar.update()
            if (i + 1) % eval_every == 0 or i == steps - 1:
                values = losses.detach().tolist()
                sync(device)
                share = (time.perf_counter() - start) / len(models)  # the stack's time, split evenly
                _unstack(params, buffers, models)
                for s in list(alive):
                    results[s].clock(share, i + 1, step)
                    if not results[s].record(step, index, values[s], evaluate(models[s], task)):
                        alive.remove(s)  # diverged: its sequential trial would stop here
                if not alive:
                    bar.close()
                    return results
                if checkpoint is not None and checkpoint.due():
                    _save(checkpoint, params, buffers, optimizer, results, alive, index, i + 1, step)
                start = time.perf_counter()
    bar.close()
    return results


def _save(checkpoint, params, buffers, optimizer, results, alive, phase: int, phase_step: int, step: int) -> None:
    """The group's state: its stacked tensors, optimizer, histories, live seeds and where in which phase."""
    checkpoint.save({"tensors": {k: v.detach() for k, v in {**params, **buffers}.items()},
                     "optimizer": optimizer.state_dict() if optimizer is not None else None,
                     "results": [dataclasses.asdict(r) for r in results], "alive": list(alive),
                     "random": random_state(), "phase": phase, "phase_step": phase_step, "step": step})  # fmt: skip


@torch.no_grad()
def _unstack(params: dict[str, Tensor], buffers: dict[str, Tensor], models: list[nn.Module]) -> None:
    """Copy each seed's slice of the stacked tensors into its own module (for evaluation, or for
    phases that run per seed)."""
    for s, model in enumerate(models):
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            tensor.copy_((params if name in params else buffers)[name][s])
