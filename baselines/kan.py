"""The Kolmogorov-Arnold Network (Liu et al. 2024) as pykan defines it, in two implementations.

`impl="fast"` (the default) computes exactly what pykan's MultKAN computes, from the same parameters (per
edge the G + k spline coefficients, scale_base and scale_sp; the SiLU base branch; the order-k B-spline on
the same extended grid; pykan's mask and node affines), with the spline's k + 1 non-zero bases per input
alone (baselines/bspline.py) instead of all G + k: several times faster a step, vmappable (its seeds train
stacked like the other models'), differentiable to any order. Its initial values are taken from a pykan
model built with the same seed, so seed s starts from pykan's KAN. `impl="pykan"` runs pykan's own forward.
tests/test_kan.py holds the two equal to 1e-10 in float64: outputs, gradients, Laplacians, a training run.

For pykan's model, pykan writes checkpoints into ./model by default and keeps per-forward caches for
plotting; both are turned off, so nothing lands in the user's working directory. Its symbolic branch is
disabled and its (unused) affine parameters frozen, so `count_parameters` counts only what the numerical
KAN trains. Grid updates (pykan's `fit(update_grid=...)`) are not part of the protocol: the grid is fixed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from baselines.bspline import bases, extend_knots, uniform_bases
from gmnm.utils import check_sizes

IMPLS = ("fast", "pykan")


class SplineLayer(nn.Module):
    """One KAN layer, (N, in) -> (N, out): y_o = node affine(subnode affine(sum_i mask_io (scale_base_io
    silu(x_i) + scale_sp_io spline_io(x_i)))), as pykan's KANLayer and MultKAN compute it; the sums over
    inputs and bases taken as matmuls."""

    def __init__(self, layer, subnode: tuple[Tensor, Tensor], node: tuple[Tensor, Tensor], k: int):
        super().__init__()
        self.k = k
        self.coef = nn.Parameter(layer.coef.detach().clone())  # (in, out, G + k)
        self.scale_base = nn.Parameter(layer.scale_base.detach().clone(), requires_grad=layer.scale_base.requires_grad)
        self.scale_sp = nn.Parameter(layer.scale_sp.detach().clone(), requires_grad=layer.scale_sp.requires_grad)
        grid = layer.grid.detach().clone()  # (in, G + 2k + 1): fixed, as in the protocol
        self.register_buffer("grid", grid)
        self.register_buffer("knots", extend_knots(grid, k))
        self.register_buffer("mask", layer.mask.detach().clone())  # (in, out)
        for name, t in zip(("subnode_scale", "subnode_bias", "node_scale", "node_bias"), (*subnode, *node)):
            self.register_buffer(name, t.detach().clone())  # (out,): pykan's affines, frozen at 1 and 0
        # at 1 and 0 they change no number (x * 1 + 0 is x exactly): skipped, two fewer passes each way
        self.affine = not all(bool((t == v).all()) for t, v in zip((*subnode, *node), (1, 0, 1, 0)))
        # pykan's grids are uniform: then the bases need no knot lookups (baselines/bspline.py)
        step = (grid[:, -1] - grid[:, 0]) / (grid.shape[1] - 1)  # (in,)
        spacing = grid.diff(dim=1)
        self.uniform = bool(((spacing - step[:, None]).abs() <= 1e-12 * step[:, None].abs()).all())
        self.register_buffer("start", grid[:, 0].clone())
        self.register_buffer("step", step)

    def forward(self, x: Tensor) -> Tensor:
        n_in, n_out, n_coef = self.coef.shape
        k, n = self.k, self.grid.shape[-1]
        # sum_i mask (scale_sp spline_i): one matmul over (input, basis) pairs against these weights
        w = ((self.mask * self.scale_sp)[:, :, None] * self.coef).permute(0, 2, 1)  # (in, G + k, out)
        if self.uniform:
            b, t = uniform_bases(x, self.start, self.step, n, k)  # (N, in, k + 1), (N, in)
            # basis t - k + q lands in column t + q of a layout padded by k zero-weight bases at each end
            dense = torch.zeros(*x.shape, n_coef + 2 * k, dtype=b.dtype, device=x.device)
            dense = dense.scatter(-1, t[..., None] + torch.arange(k + 1, device=x.device), b)
            w = F.pad(w, (0, 0, k, k))  # (in, G + 3k, out)
        else:
            dense = bases(x, self.grid, self.knots, k)  # (N, in, G + k)
        spline = dense.reshape(x.shape[0], -1) @ w.reshape(-1, n_out)  # (N, in * cols) @ (in * cols, out)
        y = F.silu(x) @ (self.mask * self.scale_base) + spline  # silu: pykan's base_fun, torch.nn.SiLU()
        if not self.affine:
            return y
        y = self.subnode_scale[None] * y + self.subnode_bias[None]
        return self.node_scale[None] * y + self.node_bias[None]


class KAN(nn.Module):
    """(..., in_features) -> (..., out_features) through KAN layers of widths `hidden`; impl: "fast" or "pykan"."""

    @staticmethod
    def vectorizes(model_cfg) -> bool:
        """Whether a model of this config trains its seeds stacked under vmap: pykan's forward is not written
        for it (the seed-grouping sweeper asks before building anything)."""
        return model_cfg.get("impl", "fast") == "fast"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (5,),
        grid: int = 5,
        k: int = 3,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        seed: int = 0,
        impl: str = "fast",
        device=None,
        dtype=None,
    ):
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"KAN: impl must be one of {IMPLS}, got {impl!r}")
        if isinstance(dtype, str):  # from a config: the trainer's dtype by name
            if dtype not in ("float32", "float64"):
                raise ValueError(f"KAN: dtype must be float32 or float64, got {dtype!r}")
            dtype = getattr(torch, dtype)
        check_sizes("KAN", in_features=in_features, out_features=out_features, hidden=list(hidden))
        width = [in_features, *hidden, out_features]
        from kan import MultKAN  # imported lazily: pykan pulls in sympy, sklearn, pandas

        # pykan sets torch's global seed in its constructor; restore the caller's RNG state so
        # building a KAN does not change what is drawn afterwards (data order, other inits).
        cpu_state, default_dtype = torch.random.get_rng_state(), torch.get_default_dtype()
        # built in float64 whatever the training dtype: pykan's grid is then uniform to rounding (its linspace in
        # float32, cast, would be off by 1e-8), which the fast bases rely on; the caller's dtype follows below
        torch.set_default_dtype(torch.float64)
        try:
            with tempfile.TemporaryDirectory(prefix="gmnm-kan-") as ckpt:
                self.kan = MultKAN(
                    width=list(width),
                    grid=grid,
                    k=k,
                    grid_range=list(grid_range),
                    seed=seed,
                    symbolic_enabled=False,
                    save_act=False,
                    auto_save=False,
                    ckpt_path=ckpt,
                    device="cpu",
                )
        finally:
            torch.set_default_dtype(default_dtype)
        torch.random.set_rng_state(cpu_state)
        for layer in self.kan.symbolic_fun:
            layer.affine.requires_grad_(False)
        self.impl, self.vectorizable = impl, impl == "fast"  # vectorizable: read by experiments/harness/ensemble.py
        if impl == "fast":  # pykan's initial values, then pykan's model is no longer needed
            m = self.kan
            del self.kan
            self.layers = nn.ModuleList(
                SplineLayer(m.act_fun[i], (m.subnode_scale[i], m.subnode_bias[i]), (m.node_scale[i], m.node_bias[i]), k)
                for i in range(m.depth)
            )
        self.to(device=device, dtype=dtype or default_dtype)
        self.width, self.grid, self.k = width, grid, k

    def forward(self, x: Tensor) -> Tensor:
        lead = x.shape[:-1]
        y = x.reshape(-1, x.shape[-1])  # (N, d): both implementations take points in rows
        if self.impl == "pykan":
            y = self.kan(y)
        else:
            for layer in self.layers:
                y = layer(y)
        return y.reshape(*lead, y.shape[-1])

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        # pykan creates some tensors on `self.device` during forward; keep it in step.
        p = next(self.kan.parameters(), None) if self.impl == "pykan" else None
        if p is not None:
            self.kan.device = p.device
        return out

    def extra_repr(self) -> str:
        return f"width={self.width}, grid={self.grid}, k={self.k}" + (", impl='pykan'" if self.impl == "pykan" else "")
