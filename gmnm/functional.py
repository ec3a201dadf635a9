"""Functional form of the Augmented Gaussian Projection (AGP) responses of GMNM.

Each function maps inputs ``x`` of shape (N, d) to one scalar per component, shape (N, m).
They hold the maths only; `gmnm.layer.GMNM` owns the parameters. Equation numbers refer to
Lu et al., "Rethinking Nonlinearity", arXiv 2510.06660.
"""

from __future__ import annotations

import torch
from torch import Tensor


def diag_sq_distance(x: Tensor, mu: Tensor, scale: Tensor) -> Tensor:
    """y_i^2 = sum_k (scale_ik * (x_k - mu_ik))^2: a Mahalanobis distance with a diagonal Sigma^-1.

    x: (N, d), mu: (m, d), scale: (m, d) -> (N, m).
    """
    # Expanded as x^2 . s^2 - 2 x . (s^2 mu) + mu^2 . s^2: three matmuls instead of an (N, m, d)
    # broadcast, whose backward would be the bottleneck (benchmarks/layer.py times both).
    # The price is an absolute error of ~eps * |s x|^2 near the centres, hence the clamp.
    s2 = scale.square()  # (m, d)
    y_sq = x.square() @ s2.T - 2 * (x @ (s2 * mu).T) + (s2 * mu.square()).sum(-1)  # (N, m)
    return y_sq.clamp_min(0)


def full_sq_distance(x: Tensor, mu: Tensor, proj: Tensor) -> Tensor:
    """y_i^2 = || proj_i (x - mu_i) ||^2 = z^T (proj_i^T proj_i) z: Sigma^-1 = proj^T proj is PSD by
    construction, the point of §3 (no constraint to enforce during training).

    x: (N, d), mu: (m, d), proj: (m, r, d) -> (N, m).
    """
    m, r, d = proj.shape
    # proj_i (x - mu_i) = proj_i x - proj_i mu_i: one (N, d) x (d, m r) matmul, no (N, m, d) tensor.
    y = (x @ proj.reshape(m * r, d).T).reshape(-1, m, r)  # (N, m, r): the r projections LP_n(z)
    y = y - torch.einsum("mrd,md->mr", proj, mu)  # (N, m, r), centred: z = x - mu (Eq. 3)
    return y.square().sum(-1)  # (N, m): squared between the two projections


def ridge_response(x: Tensor, mu: Tensor, proj: Tensor, offset: Tensor) -> Tensor:
    """y_i = proj_i . (x - mu_i) + offset_i: Eq. 3 read literally (two affine maps compose into one).

    x: (N, d), mu: (m, d), proj: (m, d), offset: (m,) -> (N, m). The result is signed; f(y) is a
    Gaussian ridge along proj_i, constant on hyperplanes, not a bump localized around mu_i.
    """
    # (x - mu_i) . p_i expanded as x . p_i - mu_i . p_i: one matmul instead of an (N, m, d) tensor.
    return x @ proj.T - (mu * proj).sum(-1) + offset  # (N, m)


def gaussian(y_sq: Tensor) -> Tensor:
    """f(y) = exp(-0.5 y^2) (Eq. 3, last line), taking y^2 directly."""
    return torch.exp(-0.5 * y_sq)


def diag_laplacian_factor(x: Tensor, mu: Tensor, scale: Tensor) -> Tensor:
    """lap f_i / f_i for the diag reading: sum_k (s_ik^4 z_ik^2 - s_ik^2).

    From d/dx_k f = -s_k^2 z_k f and d2/dx_k2 f = (s_k^4 z_k^2 - s_k^2) f. (N, d) -> (N, m).
    """
    s2 = scale.square()
    s4 = s2.square()
    quartic = x.square() @ s4.T - 2 * (x @ (s4 * mu).T) + (s4 * mu.square()).sum(-1)  # sum s^4 z^2
    return quartic - s2.sum(-1)


def full_laplacian_factor(x: Tensor, mu: Tensor, proj: Tensor) -> Tensor:
    """lap f_i / f_i for the full reading: ||P^T P z||^2 - tr(P^T P), with P = proj_i.

    From grad f = -P^T P z f. (N, d) -> (N, m).
    """
    m, r, d = proj.shape
    y = (x @ proj.reshape(m * r, d).T).reshape(-1, m, r) - torch.einsum("mrd,md->mr", proj, mu)  # (N, m, r)
    grad = torch.einsum("nmr,mrd->nmd", y, proj)  # (N, m, d): P^T P z
    return grad.square().sum(-1) - proj.square().sum((-1, -2))


def ridge_laplacian_factor(y: Tensor, proj: Tensor) -> Tensor:
    """lap f_i / f_i for the ridge reading: (y_i^2 - 1) ||p_i||^2, since f''(y) = (y^2 - 1) f."""
    return (y.square() - 1) * proj.square().sum(-1)
