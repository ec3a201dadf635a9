"""Per-step time of the classification models (§5.1, Table 2), and one MNIST epoch of the CNN.

    .venv/bin/python -m benchmarks.classification_step [--experiment mnist] [--device cpu]
        [--rounds 3] [--steps 20] [--no-epoch]

Models are built from conf/ exactly as the runner builds them and timed at batch 32 in
interleaved rounds (median round reported), each step split into the data path, forward,
backward and optimizer; the ratios to the CNN are from the same run. The issue's target:
CNN+GMNM within 10 % of the CNN. Then one full epoch of the CNN runs through the trainer,
with the data path's share of it, to show the model, not the loader, is the bottleneck.
Needs the data set (see README: GMNM_DATA).
"""

from __future__ import annotations

import argparse
from functools import partial

import torch

from benchmarks.steps import PARTS, build_all, median_parts, timer
from experiments.harness.env import pick_device
from experiments.harness.train import Phase, train
from gmnm import count_parameters


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--experiment", default="mnist", choices=["mnist", "cifar10", "cifar100"])
    ap.add_argument("--models", default=None, help="comma-separated; default: the experiment's lineup")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20, help="repetitions per part per round")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--no-epoch", action="store_true", help="skip timing one full epoch of the CNN")
    args = ap.parse_args(argv)
    device = pick_device(args.device)
    now = timer(device)
    nets, task = build_all(args.experiment, args.models.split(",") if args.models else None, device)
    names = list(nets)
    med = median_parts(nets, task, args.rounds, args.steps, args.batch_size, now)
    total = {n: sum(m.values()) for n, m in med.items()}
    base = total.get("cnn", next(iter(total.values())))
    print(
        f"{args.experiment}: device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"batch {args.batch_size}, median of {args.rounds} rounds x {args.steps} steps (ms)"
    )
    print(f"{'model':13s} {'params':>7s} " + " ".join(f"{p:>9s}" for p in PARTS) + f" {'step':>8s} {'/ cnn':>6s}")
    for n in names:
        print(
            f"{n:13s} {count_parameters(nets[n]):7d} "
            + " ".join(f"{med[n][p]:9.2f}" for p in PARTS)
            + f" {total[n]:8.2f} {total[n] / base:6.3f}"
        )
    if "cnn" in nets and "cnn_gmnm" in nets:
        print(f"CNN+GMNM / CNN step time: {total['cnn_gmnm'] / base:.3f} (target: <= 1.10)")
    if args.no_epoch or "cnn" not in nets:
        return
    model = nets["cnn"]
    steps = task.steps_per_epoch(args.batch_size)
    t0 = now()
    result = train(
        model,
        task,
        [Phase(partial(torch.optim.Adam, lr=1e-3), steps=steps, eval_every=steps)],
        batch_size=args.batch_size,
        generator=torch.Generator().manual_seed(0),
        device=device,
        progress=False,
    )
    wall = now() - t0
    data_s = med["cnn"]["batch"] * steps / 1000
    print(
        f"one {args.experiment} epoch of the CNN ({steps} steps of {args.batch_size}): {wall:.1f} s in all, "
        f"{result.train_time_s:.1f} s training ({result.ms_per_step:.1f} ms/step), "
        f"{wall - result.train_time_s:.1f} s evaluating train/val/test twice (before and after); "
        f"data path about {data_s:.2f} s ({data_s / result.train_time_s:.1%} of training)"
    )


if __name__ == "__main__":
    main()
