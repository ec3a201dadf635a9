"""Training-step times of the models the timing claims compare (Tables 2 and 4), at each experiment's own
shapes and batch size, side by side in one process: the measurement that decides those claims.

    .venv/bin/python -m benchmarks.claim_steps [--experiments mnist,cifar10] [--store results/runs]
        [--device auto] [--threads 1] [--rounds 9] [--steps 10] [--force]

Each model is built from conf/ as the runner builds it (profile paper), its task set up on random images of
the data set's shapes (no data set is needed: a step costs the same on any pixels), and timed for whole
Adam steps (zero_grad, forward, loss, backward, update) in interleaved rounds: every model of the
experiment once a round, so a burst of load on a shared machine falls on all of them alike. One thread by
default, as the sweeps' trials run. Writes <store>/steps/<experiment>-<device>.json, which the report's
ledger reads (experiments/analysis/shapes.py); a file already there is kept unless --force.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from benchmarks.steps import build, compose, timer
from experiments.harness.atomic import write_atomic
from experiments.harness.env import ROOT, git_commit, pick_device
from experiments.harness.store import BENCH_METRIC, STEPS


def timed_models() -> dict[str, list[str]]:
    """{experiment: the models its step-benchmark claims compare}, read from the ledger's claims."""
    from experiments.analysis.ledger.spec import claims

    out: dict[str, list[str]] = {}
    for c in claims():
        if c.metric == BENCH_METRIC:
            models = out.setdefault(c.experiment, [])
            for pair in c.pairs:
                models += [side.model for side in pair if side.model not in models]
    return out


def step_ms(model, task, optimizer, batches, steps: int, now) -> float:
    """ms per whole Adam step over `steps` steps, as the runner takes them."""
    t0 = now()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        task.loss(model, next(batches)).backward()
        optimizer.step()
    return 1000 * (now() - t0) / steps


def measure(experiment: str, models: list[str], device: torch.device, rounds: int, steps: int) -> dict:
    """{model: [ms per step, one per round]} and the batch size, models timed in interleaved rounds."""
    batch_size = compose(f"experiment={experiment}", "profile=paper").trainer.batch_size
    nets, task = {}, None
    for name in models:
        model, task = build(experiment, name, "profile=paper")
        nets[name] = model.to(device=device, dtype=torch.float32)  # the image experiments' dtype
    task.setup_synthetic(device, torch.float32)
    now = timer(device)
    state = {}
    for name, model in nets.items():
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        batches = task.batches(batch_size, torch.Generator().manual_seed(0))
        step_ms(model, task, opt, batches, 3, now)  # warm-up: allocator, kernels, Adam's state
        state[name] = (opt, batches)
    ms = {name: [] for name in nets}
    for _ in range(rounds):
        for name, model in nets.items():
            ms[name].append(step_ms(model, task, *state[name], steps, now))
    return {"ms": ms, "batch_size": batch_size}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--experiments", default=None, help="comma-separated; default: every timing claim's")
    ap.add_argument("--store", type=Path, default=ROOT / "results" / "runs")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1, help="torch threads on a CPU (the sweeps' trials use 1)")
    ap.add_argument("--rounds", type=int, default=9, help="interleaved rounds: the samples of each model")
    ap.add_argument("--steps", type=int, default=10, help="steps a model takes in one round")
    ap.add_argument("--force", action="store_true", help="measure again where a file is already there")
    args = ap.parse_args(argv)
    wanted = timed_models()
    experiments = args.experiments.split(",") if args.experiments else list(wanted)
    unknown = [e for e in experiments if e not in wanted]
    if unknown:
        print(
            f"claim_steps: no timing claim reads {', '.join(unknown)}; choose from {', '.join(wanted)}", file=sys.stderr
        )
        return 2
    if args.rounds < 2 or args.steps < 1:
        print("claim_steps: --rounds must be at least 2 (an interval needs two samples) and --steps at least 1",
              file=sys.stderr)  # fmt: skip
        return 2
    device = pick_device(args.device)
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    try:
        for experiment in experiments:
            _bench(experiment, wanted[experiment], device, args)
    finally:
        torch.set_num_threads(threads)  # a caller in the same process keeps its own
    return 0


def _bench(experiment: str, models: list[str], device: torch.device, args) -> None:
    """Measure one experiment's models and write its file, unless one is there (and not --force)."""
    path = args.store / STEPS / f"{experiment}-{device.type}.json"
    if path.exists() and not args.force:
        print(f"{path}: kept (--force measures again)")
        return
    t0 = time.perf_counter()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    found = measure(experiment, models, device, args.rounds, args.steps)
    record = {
        "experiment": experiment, "device": device.type, "device_name": _device_name(device),
        "threads": torch.get_num_threads(), "torch": torch.__version__, "git_commit": git_commit(),
        "rounds": args.rounds, "steps_per_round": args.steps, "started": started,
        "wall_time_s": round(time.perf_counter() - t0, 1), "load_average": list(os.getloadavg()), **found,
    }  # fmt: skip
    write_atomic(path, json.dumps(record, indent=1) + "\n")
    medians = {m: statistics.median(v) for m, v in found["ms"].items()}
    print(f"{path}: " + ", ".join(f"{m} {ms:.2f}" for m, ms in medians.items()) + " ms/step (median of rounds)")


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()})"


if __name__ == "__main__":
    sys.exit(main())
