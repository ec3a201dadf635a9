"""GMNM's forward + backward against a Linear-tanh-Linear block of the same hidden width, and each reading's
Laplacian step against diag's.

    .venv/bin/python -m benchmarks.layer [--device cpu] [--threads 1] [--rounds 7] [--steps 20] [--all]

For each size (batch N, input d, components m = the MLP's hidden width, outputs) and each
reading of Eq. 3 (diag fused, the default; diag through autograd; full; ridge), one
step is forward, a sum of the outputs, backward with respect to the parameters. Time: the
median of interleaved rounds, so a burst of load hits every layer alike. Memory: on CUDA the
peak allocated during a step above what was allocated before it; on CPU the bytes autograd keeps
for backward (saved tensors), which is what grows with N and m. The targets apply to the
default, fused diag: at most 1.3x the MLP's time and 1.5x its memory. Beside the MLP, each row's time is
over its floor: the bare matmuls a step of its kind cannot avoid, each timed alone at its shape in the
same rounds (diag: A @ B^T and g @ pi^T forward, A^T (N, m), W @ pi and W^T g backward, with K = 2d + 1
features; the MLP: the same five with K = d), so the ratio is what the layer spends beyond arithmetic. At the one-output sizes (a PDE's),
the Laplacian step (laplacian(x).sum(), backward) of each fused reading against diag's: the targets there
are full at most 2x and ridge at most 1.3x at Poisson's size (2601, 2, 900). The full reading at
(256, 256, 1024) builds 1,024 (256 x 256) precision matrices a step and takes minutes on a CPU: left out
unless --all.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

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


def median_ms(calls: dict[str, Callable[[], None]], rounds: int, steps: int, device) -> dict[str, float]:
    """{name: median ms of its call} over interleaved rounds of `steps` calls each (a burst of load hits all)."""
    times = {k: [] for k in calls}
    for _ in range(rounds):
        for k, call in calls.items():
            sync(device)
            t0 = time.perf_counter()
            for _ in range(steps):
                call()
            sync(device)
            times[k].append(1000 * (time.perf_counter() - t0) / steps)
    return {k: statistics.median(v) for k, v in times.items()}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def floor_call(n: int, k: int, m: int, out: int, device, dtype) -> Callable[[], None]:
    """The five matmuls of a step over K features, m hidden units and `out` outputs, on random operands."""
    shapes = ((n, k, m), (n, m, out), (k, n, m), (n, out, m), (out, n, m))  # (p, q) @ (q, r)
    pairs = [(torch.randn(p, q, device=device, dtype=dtype), torch.randn(q, r, device=device, dtype=dtype))
             for p, q, r in shapes]  # fmt: skip
    return lambda: [a @ b for a, b in pairs]


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
    sync(x.device)
    torch.cuda.reset_peak_memory_stats(x.device)
    before = torch.cuda.memory_allocated(x.device)
    step(layer, x)
    sync(x.device)
    return torch.cuda.max_memory_allocated(x.device) - before


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
        f"{'N':>5s} {'d':>4s} {'m':>5s} {'out':>3s} {'layer':16s} {'ms/step':>9s} {'/ mlp':>6s} {'/ floor':>7s} "
        f"{'MiB':>8s} {'/ mlp':>6s}"
    )
    worst_time = worst_mem = worst_floor = slower = 0.0
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
        calls = {k: partial(step, net, x) for k, net in nets.items()}
        calls["floor mlp"] = floor_call(n, d, m, out, device, dtype)
        calls["floor diag"] = floor_call(n, 2 * d + 1, m, out, device, dtype)
        ms = median_ms(calls, args.rounds, args.steps, device)
        mem = {k: memory(net, x) for k, net in nets.items()}
        for k in nets:
            floor = ms["floor mlp"] if k == "mlp" else ms["floor diag"] if k.startswith("diag") else None
            over = f"{ms[k] / floor:7.2f}" if floor else f"{'':7s}"
            print(
                f"{n:5d} {d:4d} {m:5d} {out:3d} {k:16s} {ms[k]:9.3f} {ms[k] / ms['mlp']:6.2f} {over} "
                f"{mem[k] / 2**20:8.2f} {mem[k] / mem['mlp']:6.2f}"
            )
        worst_time = max(worst_time, ms["diag"] / ms["mlp"])
        worst_floor = max(worst_floor, ms["diag"] / ms["floor diag"])
        slower = max(slower, ms["diag"] / ms["diag (autograd)"])
        worst_mem = max(worst_mem, mem["diag"] / mem["mlp"])
        if out == 1:  # a PDE's layer: the Laplacian step of each fused reading
            fused = {k: net for k, net in nets.items() if k in ("diag", "full", "ridge")}
            lap_calls = {k: partial(laplacian_step, net, x) for k, net in fused.items()}
            laplacians[(n, d, m)] = median_ms(lap_calls, args.rounds, args.steps, device)
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
    print(
        f"diag, fused: at most {worst_floor:.2f}x its floor (aim 1.25x), {slower:.2f}x diag through autograd (target <= 1)"
    )


if __name__ == "__main__":
    main()
