"""Per-step time of the generation autoencoders (§5.2, Table 4) at two batch sizes, as ratios.

    .venv/bin/python -m benchmarks.generation_step [--device cpu] [--batch-sizes 32,256]
        [--rounds 3] [--steps 5] [--synthetic] [--no-download]

The four models are built from conf/ exactly as the runner builds them and timed in
interleaved rounds (median round reported), each step split into the data path, forward,
backward and optimizer. The issue's target: AE+GMNM no more than 10 % slower than the AE (the
paper reports it faster, 17 against 23 ms/step on a T4). Step time does not depend on the
pixels, so without CIFAR on disk (or with --synthetic) random uint8 images of CIFAR's shape
stand in for it.
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.steps import PARTS, build_all, median_parts, timer
from experiments.harness.env import pick_device
from experiments.harness.errors import DataError
from gmnm import count_parameters


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--experiment", default="cifar10_ae", choices=["cifar10_ae", "cifar100_ae"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch-sizes", default="32,256")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5, help="repetitions per part per round")
    ap.add_argument("--synthetic", action="store_true", help="random images instead of the data set")
    ap.add_argument("--no-download", action="store_true", help="do not try to download a missing data set")
    args = ap.parse_args(argv)
    device = pick_device(args.device)
    now = timer(device)
    overrides = ["task.download=false"] if args.no_download else []
    nets, task = build_all(args.experiment, None, device, *overrides, setup=False)
    source = "random uint8 images of CIFAR's shape"
    if not args.synthetic:
        try:
            task.setup(device, torch.float32)
            source = task.dataset
        except DataError as e:
            print(f"({str(e).split(', and ')[0]}: timing on random images instead)")
    if source != task.dataset:
        g = torch.Generator().manual_seed(0)
        task.dtype = torch.float32
        task.splits = {
            split: torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8).to(device)
            for split, n in (("train", 2048), ("test", 256))
        }
    print(
        f"{args.experiment} ({source}): device {device}, torch {torch.__version__}, {torch.get_num_threads()} "
        f"threads, median of {args.rounds} rounds x {args.steps} steps (ms)"
    )
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        med = median_parts(nets, task, args.rounds, args.steps, batch_size, now)
        total = {n: sum(m.values()) for n, m in med.items()}
        print(f"batch {batch_size}:")
        print(f"  {'model':12s} {'params':>8s} " + " ".join(f"{p:>9s}" for p in PARTS) + f" {'step':>8s} {'/ ae':>6s}")
        for n in nets:
            print(
                f"  {n:12s} {count_parameters(nets[n]):8d} "
                + " ".join(f"{med[n][p]:9.2f}" for p in PARTS)
                + f" {total[n]:8.2f} {total[n] / total['ae']:6.3f}"
            )
        print(f"  AE+GMNM / AE step time at batch {batch_size}: {total['ae_gmnm'] / total['ae']:.3f} (target: <= 1.10)")


if __name__ == "__main__":
    main()
