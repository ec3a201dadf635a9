"""Where a time-series step (§5.3) spends its time, and what the 20-seed protocol will cost.

    .venv/bin/python -m benchmarks.timeseries_step [--device cpu] [--rounds 5] [--steps 200]

For each Table 6 model, one step at batch 32 is split into its parts (drawing the batch,
forward + loss, backward, zero_grad + Adam update), each timed alone, and compared with the
trainer's own ms/step (`experiments.harness.train.train`, evaluations excluded). The last lines
project the `paper` profile (3 models x 20 seeds x 50 epochs) from these numbers, for one
process and for `--jobs` processes, the way `make reproduce` runs it (each with cores / jobs
threads, as loky gives them). Models are timed in
interleaved rounds and the median round is reported, so a burst of load hits all alike.
"""

from __future__ import annotations

import argparse
import statistics
from functools import partial

import torch

from benchmarks.steps import PARTS, build_all, median_parts, timer
from experiments.harness.env import cpu_cores, default_jobs, pick_device
from experiments.harness.train import Phase, train
from gmnm import count_parameters


def time_trainer(model, task, steps, batch_size, device) -> tuple[float, float]:
    """(ms/step of the trainer, ms per evaluation of train + test sets)."""
    result = train(
        model,
        task,
        [Phase(partial(torch.optim.Adam, lr=1e-3), steps=steps, eval_every=steps)],
        batch_size=batch_size,
        generator=torch.Generator().manual_seed(0),
        device=device,
        progress=False,
    )
    now = timer(device)
    t0 = now()
    with torch.no_grad():
        task.evaluate(model)
    return result.ms_per_step, 1000 * (now() - t0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=200, help="repetitions per part per round")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=default_jobs(), help="parallel processes to project for")
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads; default: cores / jobs, as each of make's parallel processes gets",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads or max(1, cpu_cores() // args.jobs))
    device = pick_device(args.device)
    now = timer(device)
    nets, task = build_all("timeseries", None, device, "profile=paper")  # the paper's data size
    med = median_parts(nets, task, args.rounds, args.steps, args.batch_size, now)
    trainer = {name: [] for name in nets}
    evals = {name: [] for name in nets}
    for _ in range(args.rounds):
        for name, m in nets.items():
            ms_step, ms_eval = time_trainer(m, task, args.steps, args.batch_size, device)
            trainer[name].append(ms_step)
            evals[name].append(ms_eval)

    steps_per_epoch = task.steps_per_epoch(args.batch_size)
    print(
        f"device: {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, batch "
        f"{args.batch_size}, median of {args.rounds} rounds x {args.steps} steps"
    )
    head = " ".join(f"{p:>9s}" for p in PARTS)
    print(f"{'model':11s} {'params':>6s} {head} {'sum':>7s} {'trainer':>8s} {'/ sum':>6s} {'eval ms':>8s}")
    trial_s = {}
    for name, m in nets.items():
        total = sum(med[name].values())
        ms_step, ms_eval = statistics.median(trainer[name]), statistics.median(evals[name])
        cells = " ".join(f"{med[name][p]:9.3f}" for p in PARTS)
        print(
            f"{name:11s} {count_parameters(m):6d} {cells} {total:7.3f} {ms_step:8.3f} "
            f"{ms_step / total:6.2f} {ms_eval:8.2f}"
        )
        trial_s[name] = args.epochs * (steps_per_epoch * ms_step + ms_eval) / 1000
    one = args.seeds * sum(trial_s.values())
    all_parts = sum(sum(m.values()) for m in med.values())
    print("share of the step: " + ", ".join(f"{p} {sum(med[n][p] for n in nets) / all_parts:.0%}" for p in PARTS))
    print(
        f"projected paper protocol ({len(nets)} models x {args.seeds} seeds x {args.epochs} epochs x "
        f"{steps_per_epoch} steps): {one / 60:.1f} min in one process, {one / 60 / args.jobs:.1f} min "
        f"in {args.jobs} (if they scale), trial start-up excluded"
    )


if __name__ == "__main__":
    main()
