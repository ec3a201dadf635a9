"""Our KAN (impl=fast) against pykan's own forward (impl=pykan), in float64: the same function, the same
gradients, the same Laplacian, the same training run; and the sparse B-spline bases against pykan's."""

import pytest
import torch
from kan.spline import B_batch, extend_grid

from baselines.bspline import bases, cardinal, extend_knots, uniform_bases
from baselines.kan import KAN
from experiments.poisson.task import autograd_laplacian, func_laplacian

# every experiment's KAN (conf/experiment/*.yaml sizes), and the spline orders make tune searches
SIZES = {
    "fit1d": dict(in_features=1, hidden=[5], grid=25, k=3),
    "fit2d": dict(in_features=2, hidden=[5, 5], grid=20, k=3),
    "poisson": dict(in_features=2, hidden=[10, 10], grid=5, k=3),
    "k1": dict(in_features=2, hidden=[4], grid=6, k=1),
    "k2": dict(in_features=2, hidden=[4, 3], grid=7, k=2),
}
RTOL = 1e-10


def pair(size: str, seed: int = 3) -> tuple[KAN, KAN]:
    kw = dict(SIZES[size], out_features=1, seed=seed, dtype=torch.float64)
    return KAN(**kw, impl="pykan"), KAN(**kw, impl="fast")


def inputs(d: int, n: int = 400) -> torch.Tensor:
    """Points inside the grid range [-1, 1] and outside it (in the extended grid and beyond it)."""
    g = torch.Generator().manual_seed(0)
    return torch.cat([torch.rand(n, d, generator=g, dtype=torch.float64) * 2 - 1,
                      torch.rand(n, d, generator=g, dtype=torch.float64) * 6 - 3])  # fmt: skip


def close(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """Equal to RTOL relative, elementwise against the tensor's scale (an output near 0 cancels terms of 1e-2)."""
    scale = theirs.detach().abs().max()
    assert scale > 0
    torch.testing.assert_close(ours, theirs, rtol=RTOL, atol=RTOL * float(scale))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_sparse_bases_are_pykans_bit_for_bit_on_any_grid(k):
    grid = extend_grid(torch.linspace(-1, 1, 8, dtype=torch.float64)[None].expand(3, 8), k_extend=k)
    grid = grid * torch.tensor([[1.0], [0.5], [2.0]], dtype=torch.float64)  # a different range per input
    grid[1] = torch.sort(grid[1] + torch.rand(grid.shape[1], dtype=torch.float64) * 0.05).values  # not uniform
    x = inputs(3)
    x[:5, 0] = grid[0, :5]  # exactly on knots: pykan's intervals are [g_t, g_t+1)
    assert torch.equal(bases(x, grid, extend_knots(grid, k), k), B_batch(x, grid, k=k))


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_the_uniform_bases_are_pykans_polynomials(k):
    grid = extend_grid(torch.linspace(-1, 1, 11, dtype=torch.float64)[None].expand(2, 11), k_extend=k)
    x = inputs(2)
    n = grid.shape[1]
    b, t = uniform_bases(x, grid[:, 0], (grid[:, -1] - grid[:, 0]) / (n - 1), n, k)
    dense = torch.zeros(*x.shape, n - 1 + k, dtype=x.dtype).scatter(-1, t[..., None] + torch.arange(k + 1), b)
    torch.testing.assert_close(dense[..., k : n - 1], B_batch(x, grid, k=k), rtol=0, atol=1e-14)
    # the cardinal pieces sum to one (partition of unity) and, for k = 3, are the textbook cubic ones
    assert sum(cardinal(k)[0]) == pytest.approx(1.0) and all(sum(row) == pytest.approx(0) for row in cardinal(k)[1:])
    if k == 3:
        assert cardinal(3)[3] == pytest.approx((-1 / 6, 1 / 2, -1 / 2, 1 / 6))


@pytest.mark.parametrize("size", SIZES)
def test_forward_and_every_gradient_equal_pykans(size):
    theirs, ours = pair(size)
    x = inputs(SIZES[size]["in_features"]).requires_grad_(True)
    y_theirs, y_ours = theirs(x), ours(x)
    close(y_ours, y_theirs)
    weights = torch.randn(y_theirs.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mine = torch.autograd.grad((y_ours * weights).sum(), [x, *[p for p in ours.parameters() if p.requires_grad]])
    ref = torch.autograd.grad((y_theirs * weights).sum(), [x, *[p for p in theirs.parameters() if p.requires_grad]])
    close(mine[0], ref[0])  # the gradient in x
    # pykan's trainable parameters in its order: act_fun.l.{coef, scale_base, scale_sp}; ours: layers.l.{...}
    names = [n for n, p in theirs.named_parameters() if p.requires_grad]
    assert [n.replace("kan.act_fun", "layers") for n in names] == [
        n for n, p in ours.named_parameters() if p.requires_grad
    ]
    for name, g_ours, g_theirs in zip(names, mine[1:], ref[1:]):
        assert g_theirs.abs().max() > 0, name
        close(g_ours, g_theirs)


@pytest.mark.parametrize("size", ["fit2d", "poisson", "k2"])
def test_the_laplacian_equals_double_autograd_through_pykan(size):
    theirs, ours = pair(size)
    x = inputs(2, 200)
    reference = autograd_laplacian(theirs, x, create_graph=False)
    close(autograd_laplacian(ours, x, create_graph=False), reference)
    close(func_laplacian(ours, x), reference)  # torch.func: what a vmapped seed of the ensemble takes
    # and its gradient in every parameter, which the Poisson loss trains on
    mine = torch.autograd.grad(autograd_laplacian(ours, x, True).square().sum(), list(ours.parameters()))
    ref = torch.autograd.grad(
        autograd_laplacian(theirs, x, True).square().sum(), [p for p in theirs.parameters() if p.requires_grad]
    )
    for g_ours, g_theirs in zip(mine, ref):
        close(g_ours, g_theirs)


def test_seed_s_starts_from_pykans_kan_and_building_leaves_the_callers_state():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    theirs, ours = pair("fit2d", seed=5)
    assert torch.equal(torch.random.get_rng_state(), before) and torch.get_default_dtype() == torch.float32
    mine = ours.layers.state_dict()
    for name, value in theirs.kan.act_fun.state_dict().items():  # l.grid, l.coef, l.mask, l.scale_base, l.scale_sp
        assert torch.equal(mine[name], value), name
    other = KAN(2, 1, hidden=[5, 5], grid=20, seed=6, dtype=torch.float64)
    assert not torch.equal(other.layers[0].coef, ours.layers[0].coef)
    assert KAN(2, 1, hidden=[3]).layers[0].coef.dtype == torch.float32  # the caller's default dtype


def test_a_short_training_run_ends_where_pykans_does(compose_cfg, tmp_path):
    from experiments.harness.runner import run_trial

    common = ["experiment=fit2d", "model=kan", "profile=smoke", "trainer.dtype=float64", "trainer.steps=100",
              "trainer.eval_every=20"]  # fmt: skip
    theirs = run_trial(compose_cfg(*common, "model.impl=pykan"))
    ours = run_trial(compose_cfg(*common, f"paths.store_dir={tmp_path / 'ours'}"))
    assert theirs["key"] != ours["key"]  # two configurations in the store
    assert theirs["summary"]["n_params"] == ours["summary"]["n_params"] == 1000
    for metric in ("final_train_mse", "final_test_mse", "min_test_mse"):
        assert ours["summary"][metric] == pytest.approx(theirs["summary"][metric], rel=1e-8), metric
    assert ours["summary"]["final_test_mse"] < ours["history"][0]["test_mse"]  # it trained


def test_a_bad_impl_is_named():
    with pytest.raises(ValueError, match=r"KAN: impl must be one of \('fast', 'pykan'\), got 'torch'"):
        KAN(2, 1, impl="torch")


def test_table_1s_second_kan_has_the_grid_nearest_the_papers_count(tmp_path, monkeypatch):
    """Table 1 gives KAN [2, 10, 10, 1] 10,600 trainable parameters. By pykan's own count of a default model's
    trainable tensors (what `p.requires_grad` gives a pykan user) no grid is nearer than the configured one."""
    from conftest import compose
    from kan import KAN as PykanKAN

    monkeypatch.chdir(tmp_path)  # pykan may write beside the caller
    grid = compose("experiment=poisson", "model=kan_paper_count", "profile=paper").model.grid

    def pykan_trainable(g: int) -> int:
        model = PykanKAN(width=[2, 10, 10, 1], grid=g, k=3, auto_save=False, seed=0)
        return sum(p.numel() for p in model.parameters() if p.requires_grad)

    counts = {g: pykan_trainable(g) for g in (grid - 1, grid, grid + 1)}
    assert all(abs(counts[grid] - 10_600) < abs(c - 10_600) for g, c in counts.items() if g != grid), counts
