"""Gaussian Mixture-Inspired Nonlinear Module (GMNM).

Lu, Yuan, Zhang, Li, "Rethinking Nonlinearity: Trainable Gaussian Mixture Modules for Modern
Neural Architectures", arXiv 2510.06660, §3. No code of the authors exists; this is a
reconstruction.

A GMM density (Eq. 1) is g(x) = sum_i pi_i N(x; mu_i, Sigma_i). GMNM relaxes it into a layer
(§3): pi_i is unconstrained (no sum-to-one, no sign), the normalizing constant of Eq. 2 is
dropped (absorbed into pi), and the quadratic form (x - mu)^T Sigma^-1 (x - mu) is replaced by
the "Augmented Gaussian Projection" (AGP) of Eq. 3:

    z = x - mu,   LP_n(z) = a_n . z + b_n,   y = sum_n alpha_n LP_n(z) + beta,   f(y) = exp(-y^2 / 2)

    output_j = sum_i pi_ji f(y_i)  (+ bias_j)                              (Eq. 1, relaxed)

Eq. 3 is ambiguous: read literally, two affine maps compose into a single affine map of z (a
Gaussian *ridge*), yet the text speaks of "intermediate squaring" and of approximating the
Mahalanobis distance. The three readings, with component i = 1..m and input dimension d:

    "diag":  y_i^2 = sum_k (scale_ik z_ik)^2           Sigma_i^-1 = diag(scale_i^2)
    "full":  y_i^2 = || proj_i z_i ||^2, proj_i (r, d)  Sigma_i^-1 = proj_i^T proj_i, PSD by
             construction (rank r = d by default; r < d gives a low-rank Sigma^-1)
    "ridge": y_i = proj_i . z_i + offset_i              Eq. 3 literally, no squaring in between

Default "diag": it is the only reading that reproduces the paper's one explicit count, Table 1's
4,500 parameters for 900 components on a 2-D input (mu 2 + scale 2 + pi 1 per component).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.func import functional_call

from gmnm import functional as F
from gmnm import fused as fz
from gmnm.fused import DiagLaplacian, DiagMixture
from gmnm.head import LinearHead
from gmnm.utils import check_sizes

PROJECTIONS = ("diag", "full", "ridge")
MU_INITS = ("uniform", "grid", "normal")


LOW_PRECISION = (torch.float16, torch.bfloat16)
# fused="auto" on a CPU: points x components from which the fused path is the faster; below it the call is
# per-op overhead, where the readable path's fewer Python-level steps win (`python -m benchmarks.layer`).
FUSED_MIN_WORK = 10_000


class _Laplacian(nn.Module):
    """A layer's Laplacian as a module's forward, for torch.func.functional_call (low-precision inputs)."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x: Tensor) -> Tensor:
        return self.layer.laplacian(x)


class GMNM(nn.Module):
    """Trainable Gaussian-mixture layer mapping (..., in_features) to (..., out_features).

    Args:
        in_features: input dimension d.
        out_features: number of outputs (rows of pi).
        n_components: number of Gaussian components m.
        projection: "diag" (default), "full" or "ridge"; see the module docstring.
        rank: rows of each component's projection for "full" (default d); invalid otherwise.
        trainable_mu: False freezes mu after initialization (§5 does this); mu stays a
            Parameter named ``mu`` with requires_grad=False, so it is saved and moved with the
            module but not counted by `count_parameters` or updated by optimizers.
        bias: add a learnable bias to each output.
        mu_init: "uniform" over the box mu_range^d, "grid" (a regular grid over the box, cell
            centres; needs m = k^d), or "normal" (mean the box centre, std its half-width).
        mu_range: (low, high) of the box the centres are drawn in; match it to the input range.
        sigma_init: initial width of each Gaussian along every axis (scale = 1/sigma). None
            picks span * sqrt(d) / m^(1/d): about the spacing of m centres in the box, widened
            by sqrt(d) so that y^2 stays O(1) rather than O(d) when d is large.
        sigma_scale: multiplies that initial width (sigma_init's, or the default spacing's): the
            width relative to the centre spacing, a knob tuning can search without knowing m or d.
        fused: True computes the output and the Laplacian with the fused autograd Functions of
            gmnm.fused, for every reading (same values and gradients, the memory of an MLP block);
            False uses the readable path of gmnm.functional, against which they are tested; "auto"
            (the default) takes the fused path on a GPU and, on a CPU, from FUSED_MIN_WORK points x
            components up, where its per-call overhead is paid back (`python -m benchmarks.layer`).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_components: int,
        projection: str = "diag",
        rank: int | None = None,
        trainable_mu: bool = True,
        bias: bool = False,
        mu_init: str = "uniform",
        mu_range: tuple[float, float] = (-1.0, 1.0),
        sigma_init: float | None = None,
        sigma_scale: float = 1.0,
        fused: bool | str = "auto",
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_sizes("GMNM", in_features=in_features, out_features=out_features, n_components=n_components)
        if projection not in PROJECTIONS:
            raise ValueError(f"GMNM: projection must be one of {PROJECTIONS}, got {projection!r}")
        if rank is not None and projection != "full":
            raise ValueError(
                f"GMNM: rank applies to projection='full' only, got rank={rank} with projection={projection!r}"
            )
        if mu_init not in MU_INITS:
            raise ValueError(f"GMNM: mu_init must be one of {MU_INITS}, got {mu_init!r}")
        low, high = (float(v) for v in mu_range)
        if not high > low:
            raise ValueError(f"GMNM: mu_range must be (low, high) with high > low, got {mu_range!r}")
        if sigma_init is not None and not sigma_init > 0:
            raise ValueError(f"GMNM: sigma_init must be positive or None, got {sigma_init!r}")
        if not (isinstance(sigma_scale, (int, float)) and sigma_scale > 0):
            raise ValueError(f"GMNM: sigma_scale must be a positive number, got {sigma_scale!r}")
        rank = in_features if rank is None and projection == "full" else rank
        if projection == "full" and not (isinstance(rank, int) and rank >= 1):
            raise ValueError(f"GMNM: rank must be a positive integer, got {rank!r}")
        if mu_init == "grid":
            _grid_side(n_components, in_features)  # fail at construction, not at reset
        if fused not in (True, False, "auto"):
            raise ValueError(f"GMNM: fused must be True, False or 'auto', got {fused!r}")

        self.in_features, self.out_features, self.n_components = in_features, out_features, n_components
        self.projection, self.rank, self.trainable_mu = projection, rank, trainable_mu
        self.mu_init, self.mu_range, self.sigma_init = mu_init, (low, high), sigma_init
        self.sigma_scale = float(sigma_scale)
        self.fused = fused

        fk = {"device": device, "dtype": dtype}
        m, d = n_components, in_features
        self.mu = nn.Parameter(torch.empty(m, d, **fk), requires_grad=trainable_mu)
        self.scale = nn.Parameter(torch.empty(m, d, **fk)) if projection == "diag" else None
        if projection == "full":
            self.proj = nn.Parameter(torch.empty(m, rank, d, **fk))
        elif projection == "ridge":
            self.proj = nn.Parameter(torch.empty(m, d, **fk))
        else:
            self.proj = None
        self.offset = nn.Parameter(torch.empty(m, **fk)) if projection == "ridge" else None
        self.pi = nn.Parameter(torch.empty(out_features, m, **fk))
        self.bias = nn.Parameter(torch.empty(out_features, **fk)) if bias else None
        self.reset_parameters()

    @property
    def initial_sigma(self) -> float:
        if self.sigma_init is not None:
            return float(self.sigma_init) * self.sigma_scale
        span = self.mu_range[1] - self.mu_range[0]
        d, m = self.in_features, self.n_components
        return span * math.sqrt(d) / m ** (1.0 / d) * self.sigma_scale

    def reset_parameters(self) -> None:
        low, high = self.mu_range
        with torch.no_grad():
            if self.mu_init == "uniform":
                self.mu.uniform_(low, high)
            elif self.mu_init == "normal":
                self.mu.normal_((low + high) / 2, (high - low) / 2)
            else:
                self.mu.copy_(_grid(self.n_components, self.in_features, low, high))
            inv_sigma = 1.0 / self.initial_sigma
            if self.projection == "diag":
                self.scale.fill_(inv_sigma)
            elif self.projection == "full":
                for p in self.proj:  # p: (r, d); orthonormal rows, so ||p z|| = ||z|| when r = d
                    nn.init.orthogonal_(p)
                self.proj.mul_(inv_sigma)
            else:
                self.proj.normal_()
                self.proj.div_(self.proj.norm(dim=-1, keepdim=True)).mul_(inv_sigma)
                self.offset.zero_()
            # pi and bias like nn.Linear with fan_in = m, so outputs start at O(1).
            bound = 1.0 / math.sqrt(self.n_components)
            self.pi.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def _responses(self, x: Tensor) -> Tensor:
        """(N, d) -> (N, m): the f(y_i) of each component."""
        if self.projection == "diag":
            return F.gaussian(F.diag_sq_distance(x, self.mu, self.scale))
        if self.projection == "full":
            return F.gaussian(F.full_sq_distance(x, self.mu, self.proj))
        return F.gaussian(F.ridge_response(x, self.mu, self.proj, self.offset).square())

    def gaussians(self, x: Tensor) -> Tensor:
        """The component responses f(y_i(x)): (..., in_features) -> (..., n_components)."""
        lead = self._check_input(x)
        return self._responses(x.reshape(-1, self.in_features)).reshape(*lead, self.n_components)

    def forward(self, x: Tensor) -> Tensor:
        lead = self._check_input(x)
        x2 = x.reshape(-1, self.in_features)  # (N, d), N = prod(lead)
        fused = self._fused_for(x2)
        if fused and self.projection == "diag":
            out = DiagMixture.apply(x2, self.mu, self.scale, self.pi)[0]  # (N, out)
        elif fused and self.projection == "full":
            a, q = fz.quadratic_features(x2), self._precision()
            out = fz.QuadraticMixture.apply(a, fz.quadratic_weights(self.mu, q), self.pi)[0]
        elif fused:
            out = fz.RidgeMixture.apply(*self._ridge_affine(x2), self.pi)[0]
        else:
            out = self._responses(x2) @ self.pi.T  # (N, out): relaxed mixture, Eq. 1 with pi unconstrained
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*lead, self.out_features)  # (..., out)

    def gaussian_laplacians(self, x: Tensor) -> Tensor:
        """Closed-form Laplacian of each component response in x: (..., d) -> (..., n_components).

        The output's Laplacian is these mixed by pi (`laplacian`); alone they are the columns of a
        collocation matrix, where a PDE is solved for pi by least squares (experiments/harness/lsq.py).
        """
        lead = self._check_input(x)
        x2 = x.reshape(-1, self.in_features)  # (N, d)
        if self.projection == "diag":
            g = F.gaussian(F.diag_sq_distance(x2, self.mu, self.scale))
            c = F.diag_laplacian_factor(x2, self.mu, self.scale)
        elif self.projection == "full":
            g = F.gaussian(F.full_sq_distance(x2, self.mu, self.proj))
            c = F.full_laplacian_factor(x2, self.mu, self.proj)
        else:
            y = F.ridge_response(x2, self.mu, self.proj, self.offset)
            g, c = F.gaussian(y.square()), F.ridge_laplacian_factor(y, self.proj)
        return (g * c).reshape(*lead, self.n_components)  # (N, m) -> (..., m)

    def laplacian(self, x: Tensor) -> Tensor:
        """Closed-form Laplacian of the output with respect to x: (..., d) -> (..., out).

        lap output_j = sum_i pi_ji f_i c_i(x), with c_i = lap f_i / f_i per reading
        (gmnm.functional.*_laplacian_factor); what a PDE loss needs, without double backward.
        """
        lead = self._check_input(x)
        if x.dtype in LOW_PRECISION:
            # a Laplacian's terms cancel (y^2 - 1, x^2-expanded distances): in float16 they overflow or vanish,
            # so it is computed in float32 (gradients reach the layer's own parameters) and returned in x's dtype
            own = {**dict(self.named_parameters()), **dict(self.named_buffers())}
            wide = {f"layer.{k}": v.float() if v.is_floating_point() else v for k, v in own.items()}
            return functional_call(_Laplacian(self), wide, (x.float(),)).to(x.dtype)
        x2 = x.reshape(-1, self.in_features)  # (N, d)
        fused = self._fused_for(x2)
        if fused and self.projection == "diag":
            lap = DiagLaplacian.apply(x2, self.mu, self.scale, self.pi)[0]
        elif fused and self.projection == "full":  # lap f / f = z^T Q^2 z - tr Q
            a, q = fz.quadratic_features(x2), self._precision()
            b2, b4 = fz.quadratic_weights(self.mu, q), fz.quadratic_weights(self.mu, q @ q)
            lap = fz.QuadraticLaplacian.apply(a, b2, b4, -q.diagonal(dim1=-2, dim2=-1).sum(-1), self.pi)[0]
        elif fused:  # lap f / f = (y^2 - 1) |p|^2
            lap = fz.RidgeLaplacian.apply(*self._ridge_affine(x2), self.proj.square().sum(-1), self.pi)[0]
        else:
            lap = self.gaussian_laplacians(x2) @ self.pi.T
        return lap.reshape(*lead, self.out_features)  # (N, out) -> (..., out); the bias has no curvature

    def _precision(self) -> Tensor:
        """full: Q_i = P_i^T P_i, (m, d, d), Sigma_i^-1 of the reading."""
        return torch.einsum("mrk,mrl->mkl", self.proj, self.proj)

    def _ridge_affine(self, x2: Tensor) -> tuple[Tensor, Tensor]:
        """ridge: y = A1 @ B1^T with A1 = [x, 1] (N, d + 1), B1 = [p, offset - p . mu] (m, d + 1)."""
        a = torch.cat([x2, torch.ones_like(x2[:, :1])], dim=1)
        b = torch.cat([self.proj, (self.offset - (self.mu * self.proj).sum(-1))[:, None]], dim=1)
        return a, b

    def linear_head(self) -> LinearHead:
        """pi (and the bias) over the component responses: the output is linear in them."""

        def widen(factor: float) -> None:  # each Gaussian's width times factor: its inverse-width rows over it
            with torch.no_grad():
                (self.scale if self.projection == "diag" else self.proj).div_(factor)

        return LinearHead(self.pi, self.bias, self.gaussians, self.gaussian_laplacians, widen)

    def _check_input(self, x: Tensor) -> tuple[int, ...]:
        if x.dim() < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"GMNM expects inputs of shape (..., {self.in_features}), got {tuple(x.shape)}")
        own = self.pi.dtype
        if x.dtype != own and not torch.is_autocast_enabled(x.device.type):  # autocast mixes dtypes on purpose
            raise TypeError(f"GMNM: the input is {x.dtype} and the layer {own}; convert one of them "
                            f"(x.to({own}) or layer.to({x.dtype}))")  # fmt: skip
        return tuple(x.shape[:-1])

    def extra_repr(self) -> str:
        s = (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"n_components={self.n_components}, projection={self.projection!r}"
        )
        if self.projection == "full":
            s += f", rank={self.rank}"
        s += f", trainable_mu={self.trainable_mu}, bias={self.bias is not None}"
        return s + ("" if self.fused == "auto" else f", fused={self.fused}")

    def _fused_for(self, x2: Tensor) -> bool:
        """Whether this call takes the fused path: both are exact, and the faster one is picked by size."""
        if self.fused != "auto":
            return self.fused
        return x2.is_cuda or x2.shape[0] * self.n_components >= FUSED_MIN_WORK


def _grid_side(m: int, d: int) -> int:
    k = round(m ** (1.0 / d))
    if k**d != m:
        raise ValueError(
            f"GMNM: mu_init='grid' needs n_components = k^d (d={d}), got {m}; "
            f"use e.g. {max(k, 1) ** d} or {(k + 1) ** d}, or mu_init='uniform'"
        )
    return k


def _grid(m: int, d: int, low: float, high: float) -> Tensor:
    """(m, d) cell centres of a k^d grid over [low, high]^d."""
    k = _grid_side(m, d)
    step = (high - low) / k
    axis = low + step * (torch.arange(k, dtype=torch.float64) + 0.5)  # (k,)
    mesh = torch.meshgrid(*([axis] * d), indexing="ij")  # d tensors of shape (k,)*d
    return torch.stack(mesh, dim=-1).reshape(m, d)  # (m, d)
