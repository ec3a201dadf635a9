"""Order-k B-spline bases evaluated where they are non-zero: k + 1 of them per input, not all G + k.

pykan (kan/spline.py, B_batch) runs the Cox-de Boor recursion over every basis of the extended grid at
every order, for every input; but an input in knot interval t touches only the bases t - k .. t.

- `bases`: the same recursion, with pykan's arithmetic in pykan's order, over those k + 1 alone, on any
  grid; laid out densely (pykan's layout), its values equal pykan's bit for bit.
- `uniform_bases`: on a uniform grid (pykan builds every grid uniform; only its grid updates, not part of
  the protocol, move knots), the k + 1 bases are fixed polynomials of the interval's own coordinate
  u = (x - g_t) / h (`cardinal`: pykan's recursion run once on polynomials): a matmul of u's powers,
  no knot read; the same polynomials, equal to pykan's values up to rounding (1e-16 relative). An
  input exactly on a knot may fall in either neighbouring interval: the same value for k >= 1 (B-splines
  are continuous there), and for k = 1 a different one-sided slope.

Inputs outside the grid [g_0, g_last) have no basis, as in pykan (its order-0 indicators are all zero).
Everything is plain tensor arithmetic, so it runs under torch.func.vmap and differentiates to any order.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import torch
from torch import Tensor


def extend_knots(grid: Tensor, k: int) -> Tensor:
    """(d, n) knots -> (d, n + 2 k): k more at each end at the grid's mean spacing (pykan's extend_grid), so
    that the knots an input's recursion reads exist near the ends; the bases they add are never used."""
    h = (grid[:, -1:] - grid[:, :1]) / (grid.shape[1] - 1)  # (d, 1)
    steps = torch.arange(1, k + 1, dtype=grid.dtype, device=grid.device)  # (k,)
    return torch.cat([grid[:, :1] - h * steps.flip(0), grid, grid[:, -1:] + h * steps], dim=1)


def bases(x: Tensor, grid: Tensor, knots: Tensor, k: int) -> Tensor:
    """(N, d) inputs, (d, n) grid, (d, n + 2 k) extend_knots(grid, k) -> (N, d, n - k - 1) basis values,
    dense (pykan's B_batch layout) with at most k + 1 non-zero per input."""
    n = grid.shape[-1]
    t = (x[..., None] >= grid).sum(-1) - 1  # (N, d): the interval [g_t, g_t+1) holding x; -1 or n - 1 outside
    inside = ((t >= 0) & (t <= n - 2)).to(x.dtype)
    t = t.clamp(0, n - 2)
    # the knots g_{t-k} .. g_{t+k+1} of each input: knots[..., t + m] is g_{t-k+m}, m = 0 .. 2k + 1
    offsets = torch.arange(2 * k + 2, device=x.device)
    g = knots.expand(x.shape[0], -1, -1).gather(-1, t[..., None] + offsets)  # (N, d, 2k + 2)
    xe = x[..., None]
    b = inside[..., None]  # (N, d, 1): order 0, the basis of interval t
    for r in range(1, k + 1):
        # order r: bases j = t - r + q, q = 0 .. r; the recursion's two terms read B_j and B_j+1 of order r - 1,
        # zero outside the r values kept. Knot g_j sits at m = k - r + q.
        zero = torch.zeros_like(b[..., :1])
        left, right = torch.cat([zero, b], -1), torch.cat([b, zero], -1)  # (N, d, r + 1)
        gj, gj1 = g[..., k - r : k + 1], g[..., k - r + 1 : k + 2]
        gjr, gjr1 = g[..., k : k + r + 1], g[..., k + 1 : k + r + 2]
        b = (xe - gj) / (gjr - gj) * left + (gjr1 - xe) / (gjr1 - gj1) * right  # pykan's expression, term by term
    # basis j = t - k + q goes to column j of a layout padded by k on the left, then cut to the n - k - 1 real ones
    dense = torch.zeros(*x.shape, n - 1 + k, dtype=b.dtype, device=x.device)
    dense = dense.scatter(-1, t[..., None] + torch.arange(k + 1, device=x.device), b)
    return dense[..., k : n - 1]


@functools.cache
def cardinal(k: int) -> tuple[tuple[float, ...], ...]:
    """M with B_{t-k+q}(x) = sum_p M[p][q] u^p on a uniform grid, u = (x - g_t) / h in [0, 1): the Cox-de Boor
    recursion of pykan run on polynomials in u, exactly (fractions), once per order."""
    b = [[Fraction(1)]]  # order 0: the one basis of the interval, the polynomial 1
    for r in range(1, k + 1):
        # B_j, j = t - r + q: (x - g_j) / (g_j+r - g_j) = (u + r - q) / r, (g_j+r+1 - x) / (g_j+r+1 - g_j+1) = (q + 1 - u) / r
        nxt = []
        for q in range(r + 1):
            poly = [Fraction(0)] * (r + 1)
            if q >= 1:  # (u + r - q) / r * B_{j}^{r-1}, which is b[q - 1]
                for p, c in enumerate(b[q - 1]):
                    poly[p] += c * (r - q) / r
                    poly[p + 1] += c / r
            if q < r:  # (q + 1 - u) / r * B_{j+1}^{r-1}, which is b[q]
                for p, c in enumerate(b[q]):
                    poly[p] += c * (q + 1) / r
                    poly[p + 1] -= c / r
            nxt.append(poly)
        b = nxt
    return tuple(tuple(float(b[q][p]) for q in range(k + 1)) for p in range(k + 1))


@functools.cache
def cardinal_matrix(k: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """cardinal(k) as a tensor, built once per order, dtype and device: a per-call torch.tensor would copy
    from the host in every forward (and every L-BFGS closure) on a GPU."""
    with torch.inference_mode(False):  # an ordinary tensor even if first built under inference mode
        return torch.tensor(cardinal(k), dtype=dtype, device=device)


def uniform_bases(x: Tensor, start: Tensor, step: Tensor, n: int, k: int) -> tuple[Tensor, Tensor]:
    """(N, d) inputs on a uniform grid of n knots start + i step ((d,) each) -> ((N, d, k + 1) the non-zero
    bases t - k .. t of each input, (N, d) its interval t, clamped to 0 .. n - 2; bases are 0 outside)."""
    z = (x - start) / step  # (N, d): the position in knot spacings
    t = torch.floor(z)
    u = z - t  # where in its interval, in [0, 1)
    clamped = t.clamp(0, n - 2)
    inside = (t == clamped).to(x.dtype)[..., None]  # (N, d, 1)
    powers = [torch.ones_like(u), u]
    for _ in range(2, k + 1):
        powers.append(powers[-1] * u)
    m = cardinal_matrix(k, x.dtype, x.device)  # (k + 1, k + 1)
    b = (torch.stack(powers[: k + 1], -1) @ m) * inside  # (N, d, k + 1)
    return b, clamped.long()
