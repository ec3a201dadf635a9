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
import logging
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from experiments.harness.train import Phase, TrainResult, evaluate, run_phases, train

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


class Stacked:
    """S models of one architecture as one: their parameters stacked with a leading seed dimension, each seed's
    loss under vmap, one elementwise optimizer stepping the stack. The loop that trains it is
    experiments.harness.train.run_phases, as for one model."""

    def __init__(self, models: list[nn.Module], task):
        self.models, self.task, self.size = models, task, len(models)
        self.base = copy.deepcopy(models[0])
        for module in self.base.modules():
            if hasattr(module, "prepare_for_vmap"):
                module.prepare_for_vmap()
        self.params, self.buffers = stack_module_state(models)  # {name: (S, ...)}
        self.trainable = [p for p in self.params.values() if p.requires_grad]

    def accepts(self, optimizer: torch.optim.Optimizer) -> bool:
        return isinstance(optimizer, ELEMENTWISE)  # others (L-BFGS) couple the seeds: run seed by seed

    def closure(self, optimizer: torch.optim.Optimizer, batches: list) -> Callable[[], Tensor]:
        """The seeds' losses (S,) and their gradients, for optimizer.step."""
        batch, in_dim = _stack_batches(batches)

        def seed_loss(p: dict, b: dict, one) -> Tensor:
            return self.task.loss(Member(self.base, {**p, **b}), one)

        def closure() -> Tensor:
            optimizer.zero_grad(set_to_none=True)
            losses = vmap(seed_loss, in_dims=(0, 0, in_dim))(self.params, self.buffers, batch)  # (S,)
            losses.sum().backward()  # each seed's parameters get their own loss's gradient
            return losses

        return closure

    def values(self, losses: Tensor) -> list[float]:
        return losses.detach().tolist()

    @torch.no_grad()
    def refresh(self) -> None:
        """Copy each seed's slice of the stacked tensors into its own module (for evaluation, or for
        phases that run per seed)."""
        for s, model in enumerate(self.models):
            for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
                tensor.copy_((self.params if name in self.params else self.buffers)[name][s])

    def evaluate(self, s: int) -> dict[str, float]:
        return evaluate(self.models[s], self.task)  # after refresh()

    def state(self) -> dict:
        return {"tensors": {k: v.detach() for k, v in {**self.params, **self.buffers}.items()}}

    @torch.no_grad()
    def load(self, saved: dict) -> None:
        for name, tensor in [*self.params.items(), *self.buffers.items()]:
            tensor.copy_(saved["tensors"][name])


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
    streams: list[Iterator] = [task.batches(batch_size, g) for g in generators]
    results, rest = run_phases(Stacked(models, task), task, phases, batch_size=batch_size, streams=streams,
                               device=device, progress=progress, checkpoint=checkpoint)  # fmt: skip
    if rest is None:
        return results
    # the phases from `rest` on, seed by seed from where the stack left off (or where each seed's checkpoint is)
    return [
        r
        if r.status != "complete"
        else train(
            models[s],
            task,
            phases[rest:],
            batch_size=batch_size,
            generator=generators[s],
            device=device,
            progress=progress,
            result=r,
            batches=streams[s],
            checkpoint=seed_checkpoints[s],
        )  # fmt: skip
        for s, r in enumerate(results)
    ]
