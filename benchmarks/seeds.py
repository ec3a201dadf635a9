"""Seeds trained as one vectorised computation against the same seeds trained one after another.

    .venv/bin/python -m benchmarks.seeds [--device cpu] [--seeds 8] [--steps 100] [--profile quick]

For each case (an experiment's model at the profile's data size), the same S models with the
same data order train for the same number of Adam steps twice, in one process with the same
thread count: one after another (experiments.harness.train.train), and stacked
(experiments.harness.ensemble.train_ensemble). Evaluations are excluded from the clock. Printed: trial
steps per second of each and their ratio; the last line is the smallest ratio.
"""

from __future__ import annotations

import argparse
import copy

import torch

from benchmarks.steps import build, compose
from experiments.harness.ensemble import train_ensemble
from experiments.harness.env import pick_device, seed_everything
from experiments.harness.train import Phase, train

CASES = (
    ("fit2d", "gmnm"),
    ("fit2d", "mlp_relu"),
    ("fit2d", "kan"),
    ("fit1d", "kan"),
    ("poisson", "gmnm"),
    ("poisson", "pinn"),
    ("poisson", "kan"),
    ("timeseries", "lstm3_gmnm"),
)


def models_and_task(experiment: str, model: str, seeds: int, profile: str, device, dtype):
    cfg = compose(f"experiment={experiment}", f"model={model}", f"profile={profile}")
    _, task = build(experiment, model, f"profile={profile}")
    task.setup(device, dtype)
    nets = []
    for s in range(seeds):
        seed_everything(s)
        nets.append(build(experiment, model, f"profile={profile}")[0].to(device=device, dtype=dtype))
    return nets, task, cfg


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=100, help="Adam steps per seed")
    ap.add_argument("--profile", default="quick", help="whose data sizes to use")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    print(
        f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, {args.seeds} seeds x "
        f"{args.steps} Adam steps, {args.profile} data sizes"
    )
    print(f"{'case':24s} {'dtype':8s} {'sequential':>12s} {'vectorised':>12s} {'speed-up':>9s}   (trial steps / s)")
    ratios = []
    for experiment, model in CASES:
        dtype = torch.float64 if experiment == "poisson" else torch.float32  # each experiment's own dtype
        nets, task, cfg = models_and_task(experiment, model, args.seeds, args.profile, device, dtype)
        phase = [Phase(lambda params: torch.optim.Adam(params, lr=1e-3), steps=args.steps, eval_every=args.steps)]
        batch = cfg.trainer.batch_size
        gens = [torch.Generator().manual_seed(s) for s in range(args.seeds)]
        seq = [
            train(copy.deepcopy(n), task, phase, batch_size=batch, generator=g, device=device, progress=False)
            for n, g in zip(nets, gens)
        ]
        gens = [torch.Generator().manual_seed(s) for s in range(args.seeds)]
        vec = train_ensemble(
            [copy.deepcopy(n) for n in nets],
            task,
            phase,
            batch_size=batch,
            generators=gens,
            device=device,
            progress=False,
        )
        rate = {
            name: args.seeds * args.steps / sum(r.train_time_s for r in rs) for name, rs in (("seq", seq), ("vec", vec))
        }
        ratios.append(rate["vec"] / rate["seq"])
        print(
            f"{experiment + ' ' + model:24s} {str(dtype)[6:]:8s} {rate['seq']:12.1f} {rate['vec']:12.1f} "
            f"{ratios[-1]:8.2f}x"
        )
    print(f"seeds: min speed-up {min(ratios):.2f}x over {len(ratios)} cases (target: 4.00x)")


if __name__ == "__main__":
    main()
