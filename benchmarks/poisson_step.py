"""Time one training step of each Poisson model at Table 1's sizes, in one run, and print ratios.

    .venv/bin/python -m benchmarks.poisson_step [--device cpu] [--rounds 5] [--steps 10]

A step is what the trainer does: zero grads, the PDE + boundary loss on 51^2 interior and
4 x 51 boundary points, backward, Adam update, in float64. The models are the experiment's
lineup at its sizes (conf/). Models are timed in interleaved rounds and the median round is
reported, so a burst of load on a shared machine hits all of them alike. GMNM is timed twice:
with its closed-form Laplacian, and through autograd.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.steps import add_machine_args, build, lineup, machine
from gmnm import count_parameters


def models() -> dict:
    """{name: (model, task)} as the runner builds them under the paper profile, GMNM twice."""
    out = {}
    for name in [m for m in lineup("poisson") if "_lsq" not in m]:  # *_lsq: the same modules (poisson_lsq)
        out[name] = build("poisson", name, "profile=paper")
        if hasattr(out[name][0], "laplacian"):
            out[f"{name} (autograd lap)"] = build("poisson", name, "profile=paper", "task.laplacian=autograd")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_machine_args(ap)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10, help="steps per model per round")
    args = ap.parse_args(argv)
    device, dtype = machine(args)
    runs = {}
    for name, (model, task) in models().items():
        task.setup(device, dtype)
        model = model.to(device=device, dtype=dtype)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step(model=model, task=task, opt=opt):
            opt.zero_grad(set_to_none=True)
            task.loss(model, None).backward()
            opt.step()

        step()  # warm-up
        runs[name] = (step, count_parameters(model))
    times = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (step, _) in runs.items():
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times[name].append(1000 * (time.perf_counter() - t0) / args.steps)
    base = statistics.median(times["pinn"])
    print(
        f"device: {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, {args.dtype}, "
        f"median of {args.rounds} rounds x {args.steps} steps"
    )
    print(f"{'model':26s} {'params':>7s} {'ms/step':>9s} {'/ pinn':>7s}")
    for name, ts in times.items():
        ms = statistics.median(ts)
        print(f"{name:26s} {runs[name][1]:7d} {ms:9.1f} {ms / base:7.2f}")
    print(
        f"poisson_step: GMNM (closed-form Laplacian) / PINN step time {statistics.median(times['gmnm']) / base:.2f}x "
        f"({args.dtype}; target <= 1.00x)"
    )


if __name__ == "__main__":
    main()
