"""Step time of pykan's KAN against ours (baselines/kan.py, impl=fast), which computes the same thing.

    .venv/bin/python -m benchmarks.kan [--device cpu] [--threads 1] [--rounds 5] [--steps 5]

Four steps, each at its experiment's paper size and dtype, both models built from conf/ exactly as the
runner builds them (profile paper; model.impl=pykan for pykan's) from the same seed: a full Adam step of
fit1d and of fit2d (forward, loss, backward, update), the Poisson Adam step (the PDE loss with its Laplacian
in x, by double backward through the model, as the task takes it for a model without a closed form), and one
Poisson L-BFGS step (up to 20 line-searched iterations, the trainer's finetune optimizer). Timed in
interleaved rounds (a burst of load on a shared machine hits both alike), the median round reported. The
target: at least 5x in every case; the last line gives the smallest speed-up.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from hydra.utils import instantiate

from benchmarks.steps import compose, timer
from experiments.harness.env import pick_device, pick_dtype

CASES = {  # name: (experiment, finetune: time the trainer's L-BFGS step instead of Adam's)
    "fit1d Adam": ("fit1d", False),
    "fit2d Adam": ("fit2d", False),
    "Poisson Adam (Laplacian)": ("poisson", False),
    "Poisson L-BFGS": ("poisson", True),
}


def prepare(experiment: str, impl: str, finetune: bool, device: torch.device):
    """A step function of the experiment's KAN (impl) as the runner builds and trains it."""
    cfg = compose(f"experiment={experiment}", "model=kan", "profile=paper", f"model.impl={impl}")
    dtype = pick_dtype(cfg.trainer.dtype)
    task = instantiate(cfg.task)
    task.setup(device, dtype)
    model = instantiate(cfg.model).to(device=device, dtype=dtype)
    trainer = cfg.trainer.finetune if finetune else cfg.trainer
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = instantiate(trainer.optimizer)(params)
    batches = task.batches(cfg.trainer.get("batch_size"), torch.Generator().manual_seed(0))

    def step() -> None:
        batch = next(batches)

        def closure():
            optimizer.zero_grad(set_to_none=True)
            loss = task.loss(model, batch)
            loss.backward()
            return loss

        optimizer.step(closure)

    return step


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1, help="torch threads on a CPU (the sweeps' trials use 1)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5, help="steps per model per round (L-BFGS: a fifth, at least 1)")
    ap.add_argument("--cases", default=None, help=f"comma-separated, of: {', '.join(CASES)}")
    args = ap.parse_args(argv)
    device = pick_device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    now = timer(device)
    cases = args.cases.split(",") if args.cases else list(CASES)
    print(f"KAN step, pykan over ours: device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"median of {args.rounds} interleaved rounds")  # fmt: skip
    print(f"{'case':28s} {'pykan ms':>10s} {'ours ms':>10s} {'speed-up':>9s}")
    speedups = {}
    for case in cases:
        experiment, finetune = CASES[case]
        steps = max(1, args.steps // 5) if finetune else args.steps
        fns = {impl: prepare(experiment, impl, finetune, device) for impl in ("pykan", "fast")}
        for fn in fns.values():
            fn()  # warm-up: allocations, Adam's state, L-BFGS's first history
        times = {impl: [] for impl in fns}
        for _ in range(args.rounds):
            for impl, fn in fns.items():
                t0 = now()
                for _ in range(steps):
                    fn()
                times[impl].append(1000 * (now() - t0) / steps)
        pykan, ours = (statistics.median(times[i]) for i in ("pykan", "fast"))
        speedups[case] = pykan / ours
        print(f"{case:28s} {pykan:10.1f} {ours:10.1f} {pykan / ours:8.1f}x")
    worst = min(speedups, key=speedups.get)
    print(f"smallest speed-up: {speedups[worst]:.1f}x ({worst}); the target: at least 5x, aim 10x")


if __name__ == "__main__":
    main()
