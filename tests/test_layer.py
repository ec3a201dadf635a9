"""GMNM against hand-written float64 references of each reading of Eq. 3."""

import copy
import math

import pytest
import torch

from gmnm import GMNM, count_parameters

pytestmark = pytest.mark.usefixtures("float64")  # references are float64; the default is restored after each test


@torch.no_grad()
def reference(layer: GMNM, x: torch.Tensor) -> torch.Tensor:
    """Loop over samples, outputs and components; the maths written as plainly as possible."""
    out = torch.zeros(x.shape[0], layer.out_features)
    for n in range(x.shape[0]):
        for i in range(layer.n_components):
            z = x[n] - layer.mu[i]
            if layer.projection == "diag":
                y_sq = sum((layer.scale[i, k] * z[k]) ** 2 for k in range(layer.in_features))
            elif layer.projection == "full":
                sigma_inv = layer.proj[i].T @ layer.proj[i]  # Mahalanobis form of §3
                y_sq = z @ sigma_inv @ z
            else:
                y_sq = (sum(layer.proj[i, k] * z[k] for k in range(layer.in_features)) + layer.offset[i]) ** 2
            f = math.exp(-0.5 * float(y_sq))
            for j in range(layer.out_features):
                out[n, j] += layer.pi[j, i] * f
        if layer.bias is not None:
            out[n] += layer.bias
    return out


@pytest.mark.parametrize("projection,rank", [("diag", None), ("full", None), ("full", 2), ("ridge", None)])
@pytest.mark.parametrize("bias", [False, True])
def test_matches_reference(projection, rank, bias):
    torch.manual_seed(0)
    layer = GMNM(3, 2, 5, projection=projection, rank=rank, bias=bias, sigma_init=0.7)
    with torch.no_grad():  # move away from the symmetric initialization
        for p in layer.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(7, 3)
    torch.testing.assert_close(layer(x), reference(layer, x), rtol=1e-12, atol=1e-12)


def test_gaussians_are_the_component_responses():
    torch.manual_seed(0)
    layer = GMNM(2, 1, 4)
    x = torch.randn(6, 2)
    g = layer.gaussians(x)
    assert g.shape == (6, 4) and bool(((g > 0) & (g <= 1)).all())
    torch.testing.assert_close(g @ layer.pi.T, layer(x))
    # At a centre, the diag/full response is exactly 1.
    assert layer.gaussians(layer.mu[2].detach())[2].item() == pytest.approx(1.0, abs=1e-12)


def test_table1_parameter_count():
    assert count_parameters(GMNM(2, 1, 900)) == 4500  # Table 1: 900 components, 4,500 params


def test_parameter_counts_of_each_reading():
    m, d, o = 10, 4, 3
    assert count_parameters(GMNM(d, o, m)) == m * d * 2 + o * m
    assert count_parameters(GMNM(d, o, m, projection="full")) == m * d + m * d * d + o * m
    assert count_parameters(GMNM(d, o, m, projection="full", rank=2)) == m * d + m * 2 * d + o * m
    assert count_parameters(GMNM(d, o, m, projection="ridge", bias=True)) == m * d * 2 + m + o * m + o
    frozen = GMNM(d, o, m, trainable_mu=False)
    assert count_parameters(frozen) == m * d + o * m
    assert count_parameters(frozen, trainable_only=False) == 2 * m * d + o * m


def test_parameter_names():
    names = {n for n, _ in GMNM(2, 1, 3, projection="ridge", bias=True).named_parameters()}
    assert names == {"mu", "proj", "offset", "pi", "bias"}
    layer = GMNM(2, 1, 3)
    assert {n for n, _ in layer.named_parameters()} == {"mu", "scale", "pi"}
    assert layer.bias is None and layer.proj is None and layer.offset is None


def test_leading_dimensions_are_kept():
    layer = GMNM(3, 4, 6)
    x = torch.randn(2, 5, 7, 3)
    assert layer(x).shape == (2, 5, 7, 4)
    assert layer.gaussians(x).shape == (2, 5, 7, 6)
    torch.testing.assert_close(layer(x)[1, 2], layer(x[1, 2]))
    assert layer(torch.randn(3)).shape == (4,)


@pytest.mark.parametrize("projection", ["diag", "full", "ridge"])
def test_gradcheck(projection):
    torch.manual_seed(0)
    layer = GMNM(2, 2, 3, projection=projection, bias=True, sigma_init=0.8)
    x = torch.randn(4, 2, requires_grad=True)
    params = tuple(layer.parameters())

    def fn(x, *ps):
        return torch.func.functional_call(layer, dict(zip([n for n, _ in layer.named_parameters()], ps)), (x,))

    assert torch.autograd.gradcheck(fn, (x, *params))
    assert torch.autograd.gradgradcheck(lambda x: layer(x), (x,))  # second derivatives (PDE)


def test_fixed_mu_does_not_move():
    torch.manual_seed(0)
    layer = GMNM(2, 1, 8, trainable_mu=False)
    mu0 = layer.mu.detach().clone()
    opt = torch.optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        layer(torch.randn(16, 2)).square().mean().backward()
        opt.step()
    assert layer.mu.grad is None and torch.equal(layer.mu, mu0)
    assert layer.mu.requires_grad is False and "mu" in layer.state_dict()


def test_grid_init_and_auto_width():
    layer = GMNM(2, 1, 9, mu_init="grid", mu_range=(-3.0, 3.0))
    axis = torch.tensor([-2.0, 0.0, 2.0])  # cell centres of a 3 x 3 grid over [-3, 3]^2
    expected = torch.cartesian_prod(axis, axis)
    torch.testing.assert_close(layer.mu.detach(), expected)
    # sigma = span * sqrt(d) / m^(1/d) = 6 * sqrt(2) / 3
    torch.testing.assert_close(layer.scale.detach(), torch.full((9, 2), 3 / (6 * math.sqrt(2))))


def test_full_starts_isotropic():
    layer = GMNM(3, 1, 4, projection="full", sigma_init=0.5)
    for p in layer.proj.detach():  # orthonormal rows scaled by 1/sigma -> P^T P = I / sigma^2
        torch.testing.assert_close(p.T @ p, torch.eye(3) * 4.0)


def test_factory_kwargs():
    layer = GMNM(2, 1, 3, dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in layer.parameters())


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"projection": "spherical"}, "projection must be one of"),
        ({"rank": 2}, "rank applies to projection='full' only"),
        ({"projection": "full", "rank": 0}, "rank must be a positive integer"),
        ({"mu_init": "grid"}, r"needs n_components = k\^d"),
        ({"mu_init": "sobol"}, "mu_init must be one of"),
        ({"mu_range": (1.0, -1.0)}, "high > low"),
        ({"sigma_init": 0.0}, "sigma_init must be positive"),
        ({"n_components": 0}, "n_components must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"in_features": 2, "out_features": 1, "n_components": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        GMNM(**args)


def test_wrong_input_width():
    with pytest.raises(ValueError, match=r"expects inputs of shape \(\.\.\., 3\), got \(4, 2\)"):
        GMNM(3, 1, 2)(torch.randn(4, 2))


def autograd_laplacian(fn, x):
    x = x.detach().requires_grad_(True)
    u = fn(x)[:, 0]
    (grad,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    return sum(torch.autograd.grad(grad[:, k].sum(), x, retain_graph=True)[0][:, k] for k in range(x.shape[1]))


@pytest.mark.parametrize("projection,rank", [("diag", None), ("full", None), ("full", 2), ("ridge", None)])
def test_closed_form_laplacian_matches_autograd(projection, rank):
    torch.manual_seed(0)
    layer = GMNM(3, 2, 6, projection=projection, rank=rank, bias=True, sigma_init=0.6)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.2 * torch.randn_like(p))
    x = torch.randn(9, 3)
    closed = layer.laplacian(x)
    assert closed.shape == (9, 2)
    for j in range(2):
        torch.testing.assert_close(
            closed[:, j], autograd_laplacian(lambda v: layer(v)[:, j : j + 1], x), rtol=1e-10, atol=1e-10
        )
    assert layer.laplacian(x.reshape(3, 3, 3)).shape == (3, 3, 2)


def test_laplacian_of_one_gaussian_by_hand():
    # u = pi * exp(-(s^2/2) |x - mu|^2) in d = 2: lap u = pi * (s^4 |z|^2 - 2 s^2) * exp(...)
    layer = GMNM(2, 1, 1, sigma_init=0.5)
    with torch.no_grad():
        layer.mu.copy_(torch.tensor([[0.1, -0.2]]))
        layer.pi.fill_(1.5)
    x = torch.tensor([[0.4, 0.3]])
    z2 = 0.3**2 + 0.5**2
    expected = 1.5 * (16 * z2 - 8) * math.exp(-2 * z2)
    assert layer.laplacian(x).item() == pytest.approx(expected, rel=1e-12)


def _pair(bias, trainable_mu, seed=0, projection="diag", rank=None):
    """A fused GMNM and a readable one with the same parameters, moved off their initial values."""
    torch.manual_seed(seed)
    kw = dict(bias=bias, trainable_mu=trainable_mu, projection=projection, rank=rank)
    fast = GMNM(3, 2, 7, sigma_init=0.7, fused=True, **kw)
    with torch.no_grad():
        for p in fast.parameters():
            p.add_(0.3 * torch.randn_like(p))
    slow = GMNM(3, 2, 7, fused=False, **kw)
    slow.load_state_dict(fast.state_dict())
    return fast, slow


@pytest.mark.parametrize("projection, rank", [("diag", None), ("full", None), ("full", 2), ("ridge", None)])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("trainable_mu", [True, False])
@pytest.mark.parametrize("method", ["forward", "laplacian"])
def test_fused_path_matches_the_readable_one(bias, trainable_mu, method, projection, rank):
    fast, slow = _pair(bias, trainable_mu, projection=projection, rank=rank)
    assert fast.fused and not slow.fused
    x = torch.randn(4, 5, 3, requires_grad=True)
    weights = torch.randn(4, 5, 2)
    grads = []
    for layer in (fast, slow):
        y = getattr(layer, method)(x)
        params = [x] + [p for p in layer.parameters() if p.requires_grad]
        first = torch.autograd.grad((y * weights).sum(), params, create_graph=True, allow_unused=True)
        second = torch.autograd.grad(
            sum(g.square().sum() for g in first if g is not None), params, allow_unused=True
        )  # double backward
        grads.append((y, first, second))
    (y1, g1, h1), (y2, g2, h2) = grads
    torch.testing.assert_close(y1, y2, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g2):
        assert (a is None) == (b is None)  # the Laplacian does not depend on the bias
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(h1, h2):
        if a is None or b is None:
            assert a is None or float(a.abs().max()) == 0  # the bias: its gradient is constant
            continue
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("x_grad", [True, False])  # without: the factorised backward (few outputs)
@pytest.mark.parametrize("out", [1, 9])  # 9 outputs on a 3-D input: the explicit backward
def test_fused_functions_pass_gradcheck(x_grad, out):
    from gmnm.fused import DiagLaplacian, DiagMixture

    torch.manual_seed(0)
    args = (
        torch.randn(6, 3, requires_grad=x_grad),
        torch.randn(5, 3, requires_grad=True),
        (torch.rand(5, 3) + 0.5).requires_grad_(),
        torch.randn(out, 5, requires_grad=True),
    )
    for fn in (DiagMixture, DiagLaplacian):
        for output in range(2):  # the layer's output, and the Gaussians the Function also returns
            assert torch.autograd.gradcheck(lambda *t: fn.apply(*t)[output], args)
            assert torch.autograd.gradgradcheck(lambda *t: fn.apply(*t)[output], args)


@pytest.mark.parametrize("a_grad", [True, False])  # without: full's factorised backward (few outputs)
@pytest.mark.parametrize("out", [1, 9])
def test_fused_full_and_ridge_functions_pass_gradcheck(a_grad, out):
    from gmnm import fused

    torch.manual_seed(0)
    x, mu = torch.randn(6, 3), torch.randn(5, 3)
    p = torch.randn(5, 3, 3) * 0.7
    q = torch.einsum("mrk,mrl->mkl", p, p)
    a = fused.quadratic_features(x).requires_grad_(a_grad)
    b2, b4 = fused.quadratic_weights(mu, q), fused.quadratic_weights(mu, q @ q)
    pi = torch.randn(out, 5, requires_grad=True)
    c0 = -q.diagonal(dim1=-2, dim2=-1).sum(-1)
    a1 = torch.cat([x, torch.ones(6, 1)], 1).requires_grad_(a_grad)
    b1, p2 = torch.randn(5, 4), torch.rand(5) + 0.5
    cases = [
        (fused.QuadraticMixture, (a, b2.requires_grad_(), pi), 2),
        (fused.QuadraticLaplacian, (a, b2, b4.requires_grad_(), c0.requires_grad_(), pi), 3),
        (fused.RidgeMixture, (a1, b1.requires_grad_(), pi), 3),
        (fused.RidgeLaplacian, (a1, b1, p2.requires_grad_(), pi), 4),
    ]
    for fn, args, outputs in cases:
        for output in range(outputs):  # the layer's output, and the tensors the Function also returns
            assert torch.autograd.gradcheck(lambda *t: fn.apply(*t)[output], args), (fn, output)
            assert torch.autograd.gradgradcheck(lambda *t: fn.apply(*t)[output], args), (fn, output)


def test_the_fused_quadratic_form_is_the_readable_one():
    from gmnm import functional as F
    from gmnm import fused

    torch.manual_seed(1)
    x, mu, p = torch.randn(8, 4), torch.randn(6, 4), torch.randn(6, 2, 4)
    q = torch.einsum("mrk,mrl->mkl", p, p)
    y2 = fused.quadratic_features(x) @ fused.quadratic_weights(mu, q).T
    torch.testing.assert_close(y2, F.full_sq_distance(x, mu, p), rtol=1e-12, atol=1e-12)


def test_far_gaussians_are_floored_not_subnormal():
    layer = GMNM(1, 1, 2, sigma_init=0.01, fused=True).float()
    with torch.no_grad():
        layer.mu.copy_(torch.tensor([[0.0], [50.0]]))
        layer.pi.fill_(1.0)
    x = torch.tensor([[0.0]], dtype=torch.float32)
    with torch.no_grad():
        g = layer.gaussians(x)  # the readable path underflows the far one to 0
        out = float(layer(x))
    assert float(g[0, 1]) == 0.0  # fused: exactly 1 from the near one, plus the floor eps^2 from the far one
    assert out == pytest.approx(1.0 + torch.finfo(torch.float32).eps ** 2, rel=1e-6)


@pytest.mark.parametrize("projection", ["diag", "full", "ridge"])
def test_the_fused_path_is_taken_from_its_size_up_unless_asked(projection, monkeypatch):
    from gmnm import fused as fz
    from gmnm import layer as gl

    taken = []
    for name in ("DiagMixture", "QuadraticMixture", "RidgeMixture"):  # record which Function a call reaches
        fn = getattr(fz, name)
        monkeypatch.setattr(fn, "apply", lambda *a, _f=fn.apply: taken.append(True) or _f(*a))
    m = 100
    small, large = torch.randn(gl.FUSED_MIN_WORK // m - 1, 3), torch.randn(gl.FUSED_MIN_WORK // m, 3)
    auto = GMNM(3, 1, m, projection=projection)
    auto(small)
    assert not taken and "fused" not in repr(auto)
    auto(large)
    assert len(taken) == 1
    GMNM(3, 1, m, projection=projection, fused=True)(small)
    assert len(taken) == 2
    GMNM(3, 1, m, projection=projection, fused=False)(large)
    assert len(taken) == 2 and "fused=False" in repr(GMNM(3, 1, 4, projection=projection, fused=False))
    with pytest.raises(ValueError, match="fused must be True, False or 'auto', got 'yes'"):
        GMNM(3, 1, 4, fused="yes")


@pytest.mark.parametrize("dtype,tolerance", [(torch.float16, 0.01), (torch.bfloat16, 0.05)])
@pytest.mark.parametrize("projection", ["diag", "full", "ridge"])
def test_a_low_precision_laplacian_is_computed_in_float32(dtype, tolerance, projection):
    """In float16 the Laplacian's cancelling terms overflowed (NaN at a quarter of the points): computed in float32
    and returned in the input's dtype, within the rounding of the parameters and the output; gradients flow."""
    torch.manual_seed(0)
    x = torch.rand(100, 2) * 2 - 1
    layer = GMNM(2, 1, 900, projection=projection, dtype=torch.float32)
    exact = copy.deepcopy(layer).double().laplacian(x.double())
    low = layer.to(dtype)
    lap = low.laplacian(x.to(dtype))
    assert lap.dtype == dtype and torch.isfinite(lap).all()
    assert (lap.double() - exact).norm() / exact.norm() < tolerance
    lap.float().square().sum().backward()
    assert low.pi.grad.dtype == dtype and torch.isfinite(low.pi.grad).all()


def test_an_input_of_another_dtype_is_one_clear_error():
    with pytest.raises(TypeError, match=r"GMNM: the input is torch.float64 and the layer torch.float32; convert one"):
        GMNM(2, 1, 10, dtype=torch.float32)(torch.zeros(3, 2, dtype=torch.float64))
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast mixes dtypes on purpose: no error
        GMNM(2, 1, 10, dtype=torch.float32)(torch.zeros(3, 2, dtype=torch.bfloat16))
