"""Helpers the step benchmarks share: a device-synchronizing clock, a step split into parts, the machine arguments."""

from __future__ import annotations

import statistics
import time

import torch

from experiments.harness.env import pick_device


def timer(device: torch.device):
    """A clock that waits for the device first, so asynchronous CUDA work is counted."""

    def now() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter()

    return now


def time_parts(model, task, steps: int, batch_size: int, now) -> dict[str, float]:
    """ms per step of each part of a training step, each part repeated `steps` times alone:
    the data path (drawing the batch by index and, for tasks that normalize on the device,
    `task.inputs`), forward + loss, backward (forward + backward less forward), and
    zero_grad + Adam update. Normalization is also inside forward + loss, a double count of
    well under a percent for the image models."""
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    batches = task.batches(batch_size, torch.Generator().manual_seed(0))
    batch = next(batches)
    out = {}
    t0 = now()
    prepare = getattr(task, "inputs", None)
    for _ in range(steps):
        batch = next(batches)
        if prepare is not None:
            prepare(batch[0])
    out["batch"] = now() - t0
    t0 = now()
    for _ in range(steps):
        task.loss(model, batch)
    out["forward"] = now() - t0
    t0 = now()
    for _ in range(steps):
        task.loss(model, batch).backward()
    out["backward"] = (now() - t0) - out["forward"]
    t0 = now()
    for _ in range(steps):
        opt.zero_grad(set_to_none=False)
        opt.step()
    out["optimizer"] = now() - t0
    return {k: 1000 * v / steps for k, v in out.items()}


PARTS = ("batch", "forward", "backward", "optimizer")


def median_parts(nets: dict, task, rounds: int, steps: int, batch_size: int, now) -> dict[str, dict[str, float]]:
    """{model: {part: median ms}} over `rounds` interleaved rounds (a burst of load on a shared
    machine hits every model alike), after a short warm-up of each."""
    for m in nets.values():
        time_parts(m, task, 3, batch_size, now)
    times = {n: {p: [] for p in PARTS} for n in nets}
    for _ in range(rounds):
        for n, m in nets.items():
            for part, ms in time_parts(m, task, steps, batch_size, now).items():
                times[n][part].append(ms)
    return {n: {p: statistics.median(v) for p, v in t.items()} for n, t in times.items()}


def build_all(experiment: str, models: list[str] | None, device: torch.device, *overrides: str, setup: bool = True):
    """({model: module on device}, the task, set up on device unless setup=False) as the runner
    builds them; models None: the experiment's lineup (conf/lineup.yaml)."""
    nets = {}
    for name in models or lineup(experiment):
        model, task = build(experiment, name, *overrides)
        nets[name] = model.to(device=device, dtype=torch.float32)  # as the runner does (trainer.dtype)
    if setup:
        task.setup(device, torch.float32)
    return nets, task


def compose(*overrides: str):
    """The runner's config for these overrides."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from experiments.harness.env import ROOT

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides))


def lineup(experiment: str) -> list[str]:
    return list(compose(f"experiment={experiment}").models)


def build(experiment: str, model: str, *overrides: str):
    """(model, task) exactly as `python -m experiments.run experiment=... model=...` builds them."""
    from hydra.utils import instantiate

    cfg = compose(f"experiment={experiment}", f"model={model}", *overrides)
    return instantiate(cfg.model), instantiate(cfg.task)


def add_machine_args(ap, dtype: str = "float64") -> None:
    """--device, --dtype and --threads, as the Poisson benchmarks take them (the protocol's dtype is float64)."""
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default=dtype, choices=["float64", "float32"], help="the protocol's is float64")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")


def machine(args) -> tuple[torch.device, torch.dtype]:
    """Apply --threads; the (device, dtype) that --device and --dtype name."""
    if args.threads:
        torch.set_num_threads(args.threads)
    return pick_device(args.device), getattr(torch, args.dtype)
