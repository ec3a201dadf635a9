"""pykan's Kolmogorov-Arnold Network (Liu et al. 2024), wrapped to behave like a plain module.

pykan writes checkpoints into ./model by default and keeps per-forward caches for plotting;
this wrapper turns both off, so nothing lands in the user's working directory and training
is not slowed by bookkeeping. Its symbolic branch is disabled and its (unused) affine
parameters frozen, so `count_parameters` counts only what the numerical KAN trains:
per edge, the G + k spline coefficients plus scale_base and scale_sp.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence

import torch
from torch import Tensor, nn


class KAN(nn.Module):
    """(..., in_features) -> (..., out_features) through KAN layers of widths `hidden`."""

    vectorizable = False  # pykan's forward is not written for torch.func.vmap: seeds train one by one

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (5,),
        grid: int = 5,
        k: int = 3,
        grid_range: tuple[float, float] = (-1.0, 1.0),
        seed: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        width = [in_features, *hidden, out_features]
        if any(not isinstance(w, int) or w < 1 for w in width):
            raise ValueError(
                f"KAN: in_features, out_features and hidden widths must be positive integers, "
                f"got {in_features!r}, {out_features!r}, hidden={list(hidden)!r}"
            )
        from kan import MultKAN  # imported lazily: pykan pulls in sympy, sklearn, pandas

        # pykan sets torch's global seed in its constructor; restore the caller's RNG state so
        # building a KAN does not change what is drawn afterwards (data order, other inits).
        cpu_state = torch.random.get_rng_state()
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
        torch.random.set_rng_state(cpu_state)
        for layer in self.kan.symbolic_fun:
            layer.affine.requires_grad_(False)
        self.to(device=device, dtype=dtype)
        self.width, self.grid, self.k = width, grid, k

    def forward(self, x: Tensor) -> Tensor:
        lead = x.shape[:-1]
        y = self.kan(x.reshape(-1, x.shape[-1]))  # pykan takes (N, d) only
        return y.reshape(*lead, y.shape[-1])

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        # pykan creates some tensors on `self.device` during forward; keep it in step.
        p = next(self.kan.parameters(), None)
        if p is not None:
            self.kan.device = p.device
        return out

    def extra_repr(self) -> str:
        return f"width={self.width}, grid={self.grid}, k={self.k}"
