"""GMNM's forward + backward against a Linear-tanh-Linear block of the same hidden width, and each reading's
Laplacian step against diag's.

    .venv/bin/python -m benchmarks.layer [--device cpu] [--threads 1] [--rounds 7] [--steps 20] [--all]

For each size (batch N, input d, components m = the MLP's hidden width, outputs) and each
reading of Eq. 3 (diag fused, the default; diag through autograd; full; ridge), one
step is forward, a sum of the outputs, backward with respect to the parameters. Time: the
median of interleaved rounds, so a burst of load hits every layer alike. Memory: on CUDA the
peak allocated during a step above what was allocated before it; on CPU the bytes autograd keeps
for backward (saved tensors), which is what grows with N and m. The targets apply to the
default, fused diag: at most 1.3x the MLP's time and 1.5x its memory. At the one-output sizes (a PDE's),
the Laplacian step (laplacian(x).sum(), backward) of each fused reading against diag's: the targets there
are full at most 2x and ridge at most 1.3x at Poisson's size (2601, 2, 900). The full reading at
(256, 256, 1024) builds 1,024 (256 x 256) precision matrices a step and takes minutes on a CPU: left out
unless --all.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from experiments.harness.env import pick_device
from gmnm import GMNM

SIZES = ((2601, 2, 900, 1), (1024, 2, 200, 1), (64, 3, 100, 1), (256, 64, 256, 10), (256, 256, 1024, 10))
READINGS = {
    "diag": {},
    "diag (autograd)": {"fused": False},
    "full": {"projection": "full"},
    "ridge": {"projection": "ridge"},
}


def layers(d: int, m: int, out: int) -> dict[str, nn.Module]:
    mlp = nn.Sequential(nn.Linear(d, m), nn.Tanh(), nn.Linear(m, out))
    return {"mlp": mlp, **{name: GMNM(d, out, m, **kw) for name, kw in READINGS.items()}}


def step(layer: nn.Module, x: torch.Tensor) -> None:
    layer(x).sum().backward()
    for p in layer.parameters():
        p.grad = None


def median_ms(nets: dict[str, nn.Module], fn, x: torch.Tensor, rounds: int, steps: int, device) -> dict[str, float]:
    """{name: median ms of fn(net, x)} over interleaved rounds of `steps` calls each (a burst of load hits all)."""
    times = {k: [] for k in nets}
    for _ in range(rounds):
        for k, net in nets.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(steps):
                fn(net, x)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times[k].append(1000 * (time.perf_counter() - t0) / steps)
    return {k: statistics.median(v) for k, v in times.items()}


def laplacian_step(layer: nn.Module, x: torch.Tensor) -> None:
    layer.laplacian(x).sum().backward()
    for p in layer.parameters():
        p.grad = None


def saved_bytes(layer: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the tensors autograd saves for backward in one forward (each storage once)."""
    seen: dict[int, int] = {}

    def pack(t):
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = layer(x).sum()
    out.backward()
    params = {p.untyped_storage().data_ptr() for p in layer.parameters()} | {x.untyped_storage().data_ptr()}
    return sum(n for ptr, n in seen.items() if ptr not in params)  # parameters and inputs exist anyway


def peak_bytes(layer: nn.Module, x: torch.Tensor) -> int:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    step(layer, x)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--all", action="store_true", help="also the full reading at d = 256 (minutes on a CPU)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device, dtype = pick_device(args.device), getattr(torch, args.dtype)
    memory = peak_bytes if device.type == "cuda" else saved_bytes
    print(
        f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, {args.dtype}, "
        f"median of {args.rounds} rounds x {args.steps} steps; memory: "
        f"{'peak allocated per step' if device.type == 'cuda' else 'bytes saved for backward'}"
    )
    print(
        f"{'N':>5s} {'d':>4s} {'m':>5s} {'out':>3s} {'layer':16s} {'ms/step':>9s} {'/ mlp':>6s} {'MiB':>8s} {'/ mlp':>6s}"
    )
    worst_time = worst_mem = 0.0
    g = torch.Generator().manual_seed(0)
    laplacians = {}
    for n, d, m, out in SIZES:
        nets = {k: v.to(device=device, dtype=dtype) for k, v in layers(d, m, out).items()}
        if d > 64 and not args.all:
            del nets["full"]
        x = (torch.rand(n, d, generator=g, dtype=dtype) * 2 - 1).to(device)
        for net in nets.values():
            for _ in range(3):
                step(net, x)  # warm-up
        ms = median_ms(nets, step, x, args.rounds, args.steps, device)
        mem = {k: memory(net, x) for k, net in nets.items()}
        for k in nets:
            print(
                f"{n:5d} {d:4d} {m:5d} {out:3d} {k:16s} {ms[k]:9.3f} {ms[k] / ms['mlp']:6.2f} "
                f"{mem[k] / 2**20:8.2f} {mem[k] / mem['mlp']:6.2f}"
            )
        worst_time = max(worst_time, ms["diag"] / ms["mlp"])
        worst_mem = max(worst_mem, mem["diag"] / mem["mlp"])
        if out == 1:  # a PDE's layer: the Laplacian step of each fused reading
            fused = {k: net for k, net in nets.items() if k in ("diag", "full", "ridge")}
            laplacians[(n, d, m)] = median_ms(fused, laplacian_step, x, args.rounds, args.steps, device)
    print(f"{'N':>5s} {'d':>4s} {'m':>5s} Laplacian step, ms (over diag's)")
    for (n, d, m), lap in laplacians.items():
        print(f"{n:5d} {d:4d} {m:5d} " + "  ".join(f"{k} {v:.3f} ({v / lap['diag']:.2f})" for k, v in lap.items()))
    poisson = laplacians.get((2601, 2, 900))
    if poisson:
        print(f"Laplacian at Poisson's size: full {poisson['full'] / poisson['diag']:.2f}x diag's (target <= 2), "
              f"ridge {poisson['ridge'] / poisson['diag']:.2f}x (target <= 1.3)")  # fmt: skip
    print(
        f"layer: worst time ratio {worst_time:.2f}x, worst memory ratio {worst_mem:.2f}x "
        f"(diag, fused; targets 1.30x and 1.50x)"
    )


if __name__ == "__main__":
    main()
