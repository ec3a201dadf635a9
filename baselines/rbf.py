"""Radial basis function network (Broomhead and Lowe, 1988): the classic network GMNM relaxes.

    output_j = sum_i w_ji exp(-||x - c_i||^2 / (2 s_i^2)) + b_j

One isotropic width s_i per component; centres, widths and the linear head all train. The paper
cites RBF networks' universal approximation (Park and Sandberg, 1991) as GMNM's motivation but
does not compare against one: this is that comparison. GMNM's `diag` reading is the same network
with one width per axis (and no head bias by default), so it runs on gmnm.fused's kernels.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from gmnm import functional as F
from gmnm.fused import DiagLaplacian, DiagMixture
from gmnm.head import LinearHead
from gmnm.utils import check_sizes


class RBFNetwork(nn.Module):
    """(..., in_features) -> (..., out_features); d + 1 + out parameters per component (+ out bias).

    n_components: the number of Gaussians; or None with `budget`: as many as fit in `budget`
        parameters, so the network can join any matched-size comparison without a size of its own.
    Centres start uniform in the box mu_range^d; widths at `sigma_init`, by default about the
    spacing of the centres (span * sqrt(d) / m^(1/d), as for GMNM), times `sigma_scale`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_components: int | None = None,
        *,
        budget: int | None = None,
        mu_range: tuple[float, float] = (-1.0, 1.0),
        sigma_init: float | None = None,
        sigma_scale: float = 1.0,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if n_components is None and budget is not None:
            n_components = (budget - out_features * bias) // (in_features + 1 + out_features)
        check_sizes("RBFNetwork", " (or n_components None with a budget large enough for one component)",
                    in_features=in_features, out_features=out_features, n_components=n_components)  # fmt: skip
        low, high = (float(v) for v in mu_range)
        if not high > low:
            raise ValueError(f"RBFNetwork: mu_range must be (low, high) with high > low, got {mu_range!r}")
        if sigma_init is not None and not sigma_init > 0:
            raise ValueError(f"RBFNetwork: sigma_init must be positive or None, got {sigma_init!r}")
        if not (isinstance(sigma_scale, (int, float)) and sigma_scale > 0):
            raise ValueError(f"RBFNetwork: sigma_scale must be a positive number, got {sigma_scale!r}")
        self.in_features, self.out_features, self.n_components = in_features, out_features, n_components
        self.mu_range, self.sigma_init, self.sigma_scale = (low, high), sigma_init, float(sigma_scale)
        fk = {"device": device, "dtype": dtype}
        self.mu = nn.Parameter(torch.empty(n_components, in_features, **fk))
        self.scale = nn.Parameter(torch.empty(n_components, **fk))  # 1 / s_i
        self.head = nn.Linear(n_components, out_features, bias=bias, **fk)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        low, high = self.mu_range
        d, m = self.in_features, self.n_components
        sigma = (self.sigma_init or (high - low) * math.sqrt(d) / m ** (1.0 / d)) * self.sigma_scale
        with torch.no_grad():
            self.mu.uniform_(low, high)
            self.scale.fill_(1.0 / sigma)
        self.head.reset_parameters()

    def _scales(self) -> Tensor:
        return self.scale[:, None].expand(self.n_components, self.in_features)  # (m, d): one width per component

    def forward(self, x: Tensor) -> Tensor:
        lead = x.shape[:-1]
        out = DiagMixture.apply(x.reshape(-1, self.in_features), self.mu, self._scales(), self.head.weight)[0]
        if self.head.bias is not None:
            out = out + self.head.bias
        return out.reshape(*lead, self.out_features)  # (N, out) -> (..., out)

    def gaussians(self, x: Tensor) -> Tensor:
        """The component responses: (..., d) -> (..., n_components), the features the head mixes."""
        x2 = x.reshape(-1, self.in_features)  # (N, d)
        return F.gaussian(F.diag_sq_distance(x2, self.mu, self._scales())).reshape(*x.shape[:-1], self.n_components)

    def gaussian_laplacians(self, x: Tensor) -> Tensor:
        """Closed-form Laplacian of each component response: (..., d) -> (..., n_components)."""
        x2 = x.reshape(-1, self.in_features)  # (N, d)
        s = self._scales()
        g = F.gaussian(F.diag_sq_distance(x2, self.mu, s))
        return (g * F.diag_laplacian_factor(x2, self.mu, s)).reshape(*x.shape[:-1], self.n_components)

    def laplacian(self, x: Tensor) -> Tensor:
        """Closed-form Laplacian of the output in x: (..., d) -> (..., out); the bias has no curvature."""
        lead = x.shape[:-1]
        lap = DiagLaplacian.apply(x.reshape(-1, self.in_features), self.mu, self._scales(), self.head.weight)[0]
        return lap.reshape(*lead, self.out_features)

    def linear_head(self) -> LinearHead:
        """The output Linear over the component responses."""

        def widen(factor: float) -> None:
            with torch.no_grad():
                self.scale.div_(factor)

        return LinearHead(self.head.weight, self.head.bias, self.gaussians, self.gaussian_laplacians, widen)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"n_components={self.n_components}, bias={self.head.bias is not None}"
        )
