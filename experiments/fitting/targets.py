"""The target functions of §4.1 and their 1-D analogue.

2-D (printed in §4.1):
    T(x) = sin(pi x1) sin(pi x2) - a (sinh x1 + sinh x2) + b U(x1, x2) + c N_{mu,Sigma}(x1, x2)
    U = 1/1.5 on [-3.5, -2.0] x [2.0, 3.0], 0 elsewhere;  mu = 0,  Sigma = [[0.6, 2.0], [1.1, 3.9]]

Sigma is printed non-symmetric. A covariance must be symmetric positive definite: of the
symmetric matrices the printed entries suggest, only the one with off-diagonal 1.1 (the lower
triangle, det = 1.13) is; the upper triangle (2.0) and the mean (1.55) both have det < 0.
`sigma="lower"` (default) uses it; `sigma="literal"` evaluates exp(-z^T Sigma^-1 z / 2) /
(2 pi sqrt(det Sigma)) with the printed matrix as is, which is not a density (its symmetric
part of Sigma^-1 is indefinite, so it grows along one direction).

1-D: the supplement with the paper's 1-D study is unavailable; this is a reconstruction
with the same levels ("again" in §4.1 says they match):
    T(x) = sin(pi x) - a sinh x + b U(x) + c N(x; 0, 0.6),  U = 1/1.5 on [-3.5, -2.0]
keeping the first coordinate of each 2-D ingredient (the variance 0.6 is Sigma_11).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# (a, b, c) of the four levels of §4.1, from easiest to hardest.
LEVELS = ((0.0, 0.0, 0.0), (5.0, 0.0, 0.0), (5.0, 0.1, 0.0), (5.0, 0.1, 40.0))
SIGMA_PRINTED = ((0.6, 2.0), (1.1, 3.9))
BUMP_BOX = ((-3.5, -2.0), (2.0, 3.0))  # U's support, per axis
BUMP_HEIGHT = 1 / 1.5


def covariance(sigma: str) -> Tensor:
    (s11, s12), (s21, s22) = SIGMA_PRINTED
    if sigma == "lower":
        return torch.tensor([[s11, s21], [s21, s22]], dtype=torch.float64)
    if sigma == "literal":
        return torch.tensor(SIGMA_PRINTED, dtype=torch.float64)
    raise ValueError(f"sigma must be 'lower' or 'literal', got {sigma!r}")


def target_2d(x: Tensor, a: float, b: float, c: float, sigma: str = "lower") -> Tensor:
    """x: (N, 2) float64 -> (N,)."""
    x1, x2 = x[:, 0], x[:, 1]
    t = torch.sin(math.pi * x1) * torch.sin(math.pi * x2) - a * (torch.sinh(x1) + torch.sinh(x2))
    (l1, h1), (l2, h2) = BUMP_BOX
    inside = (x1 >= l1) & (x1 <= h1) & (x2 >= l2) & (x2 <= h2)
    t = t + b * BUMP_HEIGHT * inside.to(x.dtype)
    cov = covariance(sigma).to(x)
    q = torch.einsum("ni,ij,nj->n", x, torch.linalg.inv(cov), x)  # z^T Sigma^-1 z with mu = 0
    density = torch.exp(-0.5 * q) / (2 * math.pi * torch.sqrt(torch.linalg.det(cov)))
    return t + c * density


def target_1d(x: Tensor, a: float, b: float, c: float, variance: float = SIGMA_PRINTED[0][0]) -> Tensor:
    """x: (N, 1) float64 -> (N,)."""
    x1 = x[:, 0]
    (l1, h1), _ = BUMP_BOX
    inside = (x1 >= l1) & (x1 <= h1)
    density = torch.exp(-0.5 * x1.square() / variance) / math.sqrt(2 * math.pi * variance)
    return torch.sin(math.pi * x1) - a * torch.sinh(x1) + b * BUMP_HEIGHT * inside.to(x.dtype) + c * density


def target(x: Tensor, level: int, sigma: str = "lower") -> Tensor:
    """T at points x (N, d), d = 1 or 2, float64 -> (N,): the level's (a, b, c) of §4.1."""
    a, b, c = LEVELS[level]
    return target_2d(x, a, b, c, sigma) if x.shape[1] == 2 else target_1d(x, a, b, c)
