"""Fused forward and backward of every reading of Eq. 3: the mixture and its Laplacian (diag first; full
and ridge below, on the same plan).

The readable path (gmnm.functional, then autograd) keeps about five (N, m) tensors per call
for backward. Here each is one custom autograd Function that writes the squared distances of
all N points to all m components as a single matmul,

    -y^2 / 2 = A(x) @ B(mu, s)^T,   A = [x^2, x, 1]  (N, 2d+1),
                                     B = -1/2 [s^2, -2 s^2 mu, sum_k s^2 mu^2]  (m, 2d+1),

exponentiates it in place, and keeps only the Gaussians g (N, m) for backward, whose
gradients are written out below. With few outputs the backward needs no (N, m) tensor at all:
each parameter's gradient is a sum over points that factorises through the output gradient W,

    sum_n g_ni (W pi)_ni A_nk = sum_j pi_ji (g^T (W_j * A))_ik,

one (m, N) x (N, out (2d+1)) product instead of the (N, m) products and matmuls of autograd. Gaussians
are floored at eps^2 of the dtype (or its smallest normal number where that is larger): exp of an
argument whose result is subnormal is many times slower on x86 than of one near 0 (far-apart centres
would be the bottleneck: `python -m benchmarks.layer` times it), and no output moves by more than
m eps^2 |pi|. That is the memory and the matmul count of a Linear-activation-Linear block of width m.
The Gaussians are also returned as an output (the layer drops them), so that autograd can differentiate
the backward itself: double backward (gradient penalties, an autograd Laplacian) stays exact.
`generate_vmap_rule` lets torch.func vmap these Functions (a stack of seeds trained as one computation).

Shapes: x (N, d), mu (m, d), scale (m, d), pi (out, m).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _log_floor(dtype: torch.dtype) -> float:
    """log of the Gaussians' floor: eps^2 of the dtype, or its smallest normal number where that is larger."""
    info = torch.finfo(dtype)
    return max(2 * math.log(info.eps), math.log(info.tiny))


def _exp_floored(neg_half_y2: Tensor) -> Tensor:
    """exp(min(v, 0)) for v = -y^2 / 2, at least eps^2 (or the smallest normal): no subnormals."""
    # in place on its own buffer (clamp_min_ and clamp_max_: vmap has rules for these, not for clamp_)
    return neg_half_y2.clamp_min_(_log_floor(neg_half_y2.dtype)).clamp_max_(0).exp_()  # rounding can make y^2 -eps


def _features(x: Tensor) -> Tensor:
    return torch.cat([x.square(), x, torch.ones_like(x[:, :1])], dim=1)  # (N, 2d+1)


def _weights(mu: Tensor, s_pow: Tensor, c: float) -> Tensor:
    """c [s^p, -2 s^p mu, sum_k s^p mu^2] (m, 2d+1): c z^T diag(s^p) z = A(x) @ this^T. The factor c is folded
    into the columns (-1/2 makes the middle one s^p mu as it is), and each pass over (m, d) is counted: at
    d ~ N they cost as much as the matmuls (`python -m benchmarks.layer`, d = 256)."""
    s_mu = s_pow * mu
    middle = s_mu if c == -0.5 else s_mu * (-2 * c)
    return torch.cat([s_pow * c, middle, (s_mu * mu).sum(-1, keepdim=True) * c], dim=1)


def _chain(d: int, x: Tensor, mu: Tensor, s_pow: Tensor, c: float, d_a: Tensor | None, d_b: Tensor):
    """Gradients of A(x) @ _weights(mu, s_pow, c)^T pulled back to x, mu and s_pow, from those to A and B:
    d s^p = c (dB1 - mu (2 dB2 - mu dB3)), d mu = -2c s^p (dB2 - mu dB3)."""
    db1, db2, db3 = d_b[:, :d], d_b[:, d : 2 * d], d_b[:, 2 * d :]  # (m, d), (m, d), (m, 1)
    dx = None if d_a is None else torch.addcmul(d_a[:, d : 2 * d], x, d_a[:, :d], value=2)
    u = torch.addcmul(db2, mu, db3, value=-1)  # dB2 - mu dB3
    d_s_pow = torch.addcmul(db1, mu, u.add(db2), value=-1).mul_(c)
    dmu = s_pow * u if c == -0.5 else (s_pow * u).mul_(-2 * c)
    return dx, dmu, d_s_pow


def _contract(t: Tensor, w: Tensor, a: Tensor) -> Tensor:
    """sum_n t_ni w_nj a_nk, (N, m), (N, out), (N, k) -> (m, out, k): one matmul over the points."""
    n, out, k = w.shape[0], w.shape[1], a.shape[1]
    return _over_points(t, (w[:, :, None] * a[:, None, :]).reshape(n, out * k)).reshape(-1, out, k)


def _over_points(t: Tensor, a: Tensor) -> Tensor:
    """t^T @ a, (N, m), (N, k) -> (m, k), as (a^T @ t)^T: it reads t along its rows, where t^T @ a reads it
    down its columns, which leaves the cache at Poisson's sizes (benchmarks/poisson_step.py)."""
    return (a.T @ t).T


def _factorised(ctx, out: int, k: int, *extra_grads) -> bool:
    """Whether backward may take the factorised path: no gradient for the first input (x, or the features A)
    or for the Function's extra outputs (those need (N, m) tensors), and few outputs: it costs out K columns
    (K features: 2d + 1 for diag) where the (N, m) path costs about 2 (out + K)."""
    return not ctx.needs_input_grad[0] and all(e is None for e in extra_grads) and out * k <= 2 * (out + k)


def _mixture_grads(ctx, w: Tensor, pi: Tensor, g: Tensor, a: Tensor, grad_g: Tensor | None):
    """Backward of (g @ pi^T, g) through g = exp(arg), arg = A @ B^T: (d_arg, d_arg_b, dpi), where d_arg (N, m)
    is None on the factorised path (no gradient for A needed) and d_arg_b = d_arg^T @ A (m, K)."""
    if _factorised(ctx, pi.shape[0], a.shape[1], grad_g):
        r = _contract(g, w, a)  # (m, out, K)
        return None, torch.einsum("jm,mjk->mk", pi, r), r[:, :, -1].T  # a's last column is 1: sum_n w_nj g_ni
    dg = w @ pi if grad_g is None else w @ pi + grad_g  # (N, m)
    d_arg = dg * g  # d/d(arg) of its exp
    return d_arg, _over_points(d_arg, a), w.T @ g


def _laplacian_grads(ctx, w, pi, g, h, a, grad_g, grad_h):
    """Backward of (h @ pi^T, g, h) with g = exp(arg), h = g c, both arg and c linear in A:
    (d_arg, d_c, d_arg_b, d_c_b, dpi), the (N, m) ones None on the factorised path."""
    if _factorised(ctx, pi.shape[0], a.shape[1], grad_g, grad_h):
        # d/dh = W pi; through h = g c: d/d(arg) = (W pi) h, d/dc = (W pi) g
        r_h = _contract(h, w, a)  # (m, out, K)
        d_c_b = torch.einsum("jm,mjk->mk", pi, _contract(g, w, a))
        return None, None, torch.einsum("jm,mjk->mk", pi, r_h), d_c_b, r_h[:, :, -1].T
    dh = w @ pi if grad_h is None else w @ pi + grad_h  # (N, m)
    c = h / g  # g > 0: floored
    dg = dh * c if grad_g is None else dh * c + grad_g
    d_arg, d_c = dg * g, dh * g
    return d_arg, d_c, _over_points(d_arg, a), _over_points(d_c, a), w.T @ h


class DiagMixture(torch.autograd.Function):
    """(x, mu, scale, pi) -> (g @ pi^T, g) with g_i = exp(-y_i^2 / 2): GMNM's forward (Eq. 1, 3)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, mu: Tensor, scale: Tensor, pi: Tensor):
        g = _exp_floored(_features(x) @ _weights(mu, scale.square(), -0.5).T)  # (N, m): -y^2 / 2, exponentiated
        return g @ pi.T, g

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, mu, scale, pi = inputs
        ctx.save_for_backward(x, mu, scale, pi, output[1])
        ctx.set_materialize_grads(False)  # g is usually unused: no (N, m) tensor of zeros for its gradient

    @staticmethod
    def backward(ctx, grad_out: Tensor | None, grad_g: Tensor | None):
        x, mu, scale, pi, g = ctx.saved_tensors
        d = x.shape[1]
        w = grad_out if grad_out is not None else g.new_zeros(g.shape[0], pi.shape[0])  # (N, out)
        a, s2 = _features(x), scale.square()
        d_arg, d_arg_b, dpi = _mixture_grads(ctx, w, pi, g, a, grad_g)  # arg = -y^2 / 2
        d_a = d_arg @ _weights(mu, s2, -0.5) if d_arg is not None and ctx.needs_input_grad[0] else None
        dx, dmu, ds2 = _chain(d, x, mu, s2, -0.5, d_a, d_arg_b)
        return dx, dmu, (scale * ds2).mul_(2), dpi


class DiagLaplacian(torch.autograd.Function):
    """(x, mu, scale, pi) -> (lap, g, h): the Laplacian in x of GMNM's output, lap = h @ pi^T with
    h = g c and c_i = lap g_i / g_i = sum_k s_ik^4 z_ik^2 - sum_k s_ik^2 (gmnm.functional)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, mu: Tensor, scale: Tensor, pi: Tensor):
        s2 = scale.square()
        a = _features(x)
        g = _exp_floored(a @ _weights(mu, s2, -0.5).T)  # (N, m)
        h = torch.addmm(-s2.sum(-1), a, _weights(mu, s2.square(), 1.0).T).mul_(g)  # (N, m): g c
        return h @ pi.T, g, h

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, mu, scale, pi = inputs
        ctx.save_for_backward(x, mu, scale, pi, output[1], output[2])
        ctx.set_materialize_grads(False)

    @staticmethod
    def backward(ctx, grad_out: Tensor | None, grad_g: Tensor | None, grad_h: Tensor | None):
        x, mu, scale, pi, g, h = ctx.saved_tensors
        d = x.shape[1]
        w = grad_out if grad_out is not None else g.new_zeros(g.shape[0], pi.shape[0])  # (N, out)
        a, s2 = _features(x), scale.square()
        s4 = s2.square()
        d_arg, d_c, d_arg_b, d_c_b, dpi = _laplacian_grads(ctx, w, pi, g, h, a, grad_g, grad_h)
        d_a = None
        if d_arg is not None and ctx.needs_input_grad[0]:
            d_a = d_arg @ _weights(mu, s2, -0.5) + d_c @ _weights(mu, s4, 1.0)
        dx, dmu2, ds2 = _chain(d, x, mu, s2, -0.5, d_a, d_arg_b)
        _, dmu4, ds4 = _chain(d, x, mu, s4, 1.0, None, d_c_b)
        ds2 = ds2 - d_c_b[:, -1:]  # c has -sum_k s_k^2; a's last column is 1: sum_n d/dc_ni
        return dx, dmu2 + dmu4, 2 * scale * ds2 + 4 * scale * s2 * ds4, dpi


# The `full` reading: y^2 = z^T Q z with Q = P^T P, a quadratic form in x as diag's is, over the features
# [x_k x_l (k <= l), x, 1], so it is the same one matmul; its Laplacian factor z^T Q^2 z - tr Q likewise.
# The Functions below take the features A (N, K) and the weights B (m, K), which plain autograd builds
# from x and (mu, P): only the (N, m) work is fused. Shapes as above; K = d (d + 1) / 2 + d + 1.


def quadratic_features(x: Tensor) -> Tensor:
    """(N, d) -> (N, K): [x_k x_l for k <= l, x, 1]."""
    k, j = torch.triu_indices(x.shape[1], x.shape[1], device=x.device)
    return torch.cat([x[:, k] * x[:, j], x, torch.ones_like(x[:, :1])], dim=1)


def quadratic_weights(mu: Tensor, q: Tensor) -> Tensor:
    """(m, d), (m, d, d) symmetric -> (m, K): z^T q z = quadratic_features(x) @ this^T, z = x - mu."""
    d = mu.shape[1]
    k, j = torch.triu_indices(d, d, device=mu.device)
    twice = torch.where(k == j, 1.0, 2.0).to(q.dtype)  # x_k x_j and x_j x_k share one feature
    q_mu = torch.einsum("mkl,ml->mk", q, mu)  # (m, d)
    return torch.cat([q[:, k, j] * twice, -2 * q_mu, (mu * q_mu).sum(-1, keepdim=True)], dim=1)


class QuadraticMixture(torch.autograd.Function):
    """(A, B, pi) -> (g @ pi^T, g) with g = exp(-(A @ B^T) / 2): GMNM's output for any quadratic form."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Tensor, b: Tensor, pi: Tensor):
        g = _exp_floored(a @ (-0.5 * b).T)  # (N, m)
        return g @ pi.T, g

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, b, pi = inputs
        ctx.save_for_backward(a, b, pi, output[1])
        ctx.set_materialize_grads(False)

    @staticmethod
    def backward(ctx, grad_out: Tensor | None, grad_g: Tensor | None):
        a, b, pi, g = ctx.saved_tensors
        w = grad_out if grad_out is not None else g.new_zeros(g.shape[0], pi.shape[0])  # (N, out)
        d_arg, d_arg_b, dpi = _mixture_grads(ctx, w, pi, g, a, grad_g)  # arg = -(A @ B^T) / 2
        da = d_arg @ (-0.5 * b) if d_arg is not None and ctx.needs_input_grad[0] else None
        return da, -0.5 * d_arg_b, dpi


class QuadraticLaplacian(torch.autograd.Function):
    """(A, B2, B4, c0, pi) -> (lap, g, h): g = exp(-(A @ B2^T) / 2), h = g (A @ B4^T + c0), lap = h @ pi^T
    (full: B2 from Q, B4 from Q^2, c0 = -tr Q)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Tensor, b2: Tensor, b4: Tensor, c0: Tensor, pi: Tensor):
        g = _exp_floored(a @ (-0.5 * b2).T)  # (N, m)
        h = torch.addmm(c0, a, b4.T).mul_(g)  # (N, m): g c
        return h @ pi.T, g, h

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, b2, b4, c0, pi = inputs
        ctx.save_for_backward(a, b2, b4, pi, output[1], output[2])
        ctx.set_materialize_grads(False)

    @staticmethod
    def backward(ctx, grad_out: Tensor | None, grad_g: Tensor | None, grad_h: Tensor | None):
        a, b2, b4, pi, g, h = ctx.saved_tensors
        w = grad_out if grad_out is not None else g.new_zeros(g.shape[0], pi.shape[0])  # (N, out)
        d_arg, d_c, d_arg_b, d_c_b, dpi = _laplacian_grads(ctx, w, pi, g, h, a, grad_g, grad_h)
        da = d_arg @ (-0.5 * b2) + d_c @ b4 if d_arg is not None and ctx.needs_input_grad[0] else None
        return da, -0.5 * d_arg_b, d_c_b, d_c_b[:, -1], dpi  # c0 adds to every point: a's column of ones


# The `ridge` reading: y = A1 @ B1^T with A1 = [x, 1], B1 = [p, offset - p . mu], f = exp(-y^2 / 2), and
# lap f = (y^2 - 1) |p|^2 f. RidgeMixture keeps y and g, the two (N, m) tensors its gradients need.


def _ridge_gaussian(y2: Tensor) -> Tensor:
    """exp(-y^2 / 2) from y^2 >= 0 (a square, never negative), floored as _exp_floored: one new buffer."""
    return y2.mul(-0.5).clamp_min_(_log_floor(y2.dtype)).exp_()


class RidgeMixture(torch.autograd.Function):
    """(A1, B1, pi) -> (g @ pi^T, g, y) with y = A1 @ B1^T, g = exp(-y^2 / 2)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Tensor, b: Tensor, pi: Tensor):
        y = a @ b.T  # (N, m)
        g = _ridge_gaussian(y.square())
        return g @ pi.T, g, y

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, b, pi = inputs
        ctx.save_for_backward(a, b, pi, output[1], output[2])
        ctx.set_materialize_grads(False)

    @staticmethod
    def backward(ctx, grad_out: Tensor | None, grad_g: Tensor | None, grad_y: Tensor | None):
        a, b, pi, g, y = ctx.saved_tensors
        w = grad_out if grad_out is not None else g.new_zeros(g.shape[0], pi.shape[0])  # (N, out)
        dg = w @ pi if grad_g is None else w @ pi + grad_g  # (N, m)
        dy = -(dg * g * y) if grad_y is None else grad_y - dg * g * y  # f'(y) = -y f
        da = dy @ b if ctx.needs_input_grad[0] else None
        return da, _over_points(dy, a), w.T @ g


class RidgeLaplacian(torch.autograd.Function):
    """(A1, B1, p2, pi) -> (lap, g, u, nv) with p2 = |p|^2 (m,): u = g (y^2 - 1), lap = u @ (pi p2)^T, and
    nv = -du/dy = g y (y^2 - 3), which the factorised backward needs. All are computed here, in three
    (N, m) buffers: the passes over memory, not the matmuls, are this step's cost. nv is an output so that
    double backward sees how it depends on y; y itself is recomputed where a gradient needs it."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Tensor, b: Tensor, p2: Tensor, pi: Tensor):
        y = a @ b.T  # (N, m)
        t = y.square()
        g = _ridge_gaussian(t)
        nv = y.mul_(t.sub_(3).mul_(g))  # t = g (y^2 - 3), y's buffer becomes nv
        u = t.add_(g, alpha=2)  # g (y^2 - 3) + 2 g
        return u @ (pi * p2).T, g, u, nv

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, b, p2, pi = inputs
        _, g, u, nv = output
        ctx.save_for_backward(a, b, p2, pi, g, u, nv)
        ctx.set_materialize_grads(False)

    @staticmethod
    def backward(ctx, grad_out, grad_g, grad_u, grad_nv):
        a, b, p2, pi, g, u, nv = ctx.saved_tensors
        w = grad_out if grad_out is not None else g.new_zeros(g.shape[0], pi.shape[0])  # (N, out)
        if _factorised(ctx, pi.shape[0], a.shape[1], grad_g, grad_u, grad_nv):
            # d/dy_ni = -sum_j W_nj pi_ji p2_i nv_ni factorises through W: no (N, m) product
            db = -p2[:, None] * torch.einsum("jm,mjk->mk", pi, _contract(nv, w, a))
            w_u = _over_points(u, w)  # (m, out): sum_n u_ni W_nj
            return None, db, (pi.T * w_u).sum(-1), (w_u * p2[:, None]).T
        du = w @ (pi * p2)  # (N, m): d/du of lap
        if grad_u is not None:
            du = du + grad_u
        dy = -du * nv  # du/dy = -nv
        if grad_g is not None or grad_nv is not None:
            y = a @ b.T  # recomputed: differentiable in a and b, so double backward stays exact
            if grad_g is not None:
                dy = dy - grad_g * g * y  # dg/dy = -y g
            if grad_nv is not None:
                y2 = y.square()
                dy = dy + grad_nv * g * (6 * y2 - y2.square() - 3)  # dnv/dy = g (6 y^2 - y^4 - 3)
        da = dy @ b if ctx.needs_input_grad[0] else None
        return da, _over_points(dy, a), (w @ pi * u).sum(0), (w.T @ u) * p2
