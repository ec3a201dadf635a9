"""The synthetic series of Eq. 5.

    x_i(t) = a_i sin t + b_i,  i = 1..4
    y(t) = x3(t) x4(t - d1) - x3(t - d2) x1(t - d3) + x4(t) x3(t) - x2(t - d2) x1(t - d4)

The paper prints the delays two ways: (d1, d2, d3, d4) = (1, 5, 1, 2) in its LaTeX source and
(0.1, 0.5, 0.1, 0.2) in the rendered line; the LaTeX source is the default. Delays are in
units of t: the x_i are analytic, so x_i(t - d) is evaluated exactly, wherever t - d falls.
"""

from __future__ import annotations

import torch
from torch import Tensor


def latent(t: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """t: (T,), a, b: (4,) -> (T, 4): x_i(t) = a_i sin t + b_i."""
    return a * torch.sin(t)[:, None] + b


def target(t: Tensor, a: Tensor, b: Tensor, delays: tuple[float, float, float, float]) -> Tensor:
    """t: (T,) -> (T,): y(t) of Eq. 5."""
    d1, d2, d3, d4 = delays

    def x(i: int, shift: float = 0.0) -> Tensor:  # x_i(t - shift), i = 1..4
        return a[i - 1] * torch.sin(t - shift) + b[i - 1]

    return x(3) * x(4, d1) - x(3, d2) * x(1, d3) + x(4) * x(3) - x(2, d2) * x(1, d4)


def windows(
    n_samples: int,
    window: int,
    t_range: tuple[float, float],
    a: Tensor,
    b: Tensor,
    delays: tuple[float, float, float, float],
) -> tuple[Tensor, Tensor]:
    """n_samples (input, target) pairs: the last `window` steps of the four x_i, and y at the last.

    The time grid has n_samples + window - 1 evenly spaced points over t_range, so that every
    sample has a full window. Returns (n_samples, window, 4) and (n_samples, 1), float64.
    """
    t = torch.linspace(*t_range, n_samples + window - 1, dtype=torch.float64)
    xs = latent(t, a, b)  # (T, 4)
    inputs = xs.unfold(0, window, 1).transpose(1, 2)  # (n_samples, window, 4): windows ending at t_{k}
    return inputs.contiguous(), target(t[window - 1 :], a, b, delays)[:, None]
