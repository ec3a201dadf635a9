"""The least-squares head: the solve, the reduced gradient, span recovery, tasks' systems, errors."""

import math
import os
import re
import subprocess

import pytest
import torch
from conftest import command

from baselines.kan import KAN
from baselines.mlp import MLP
from baselines.rbf import RBFNetwork
from experiments.fitting.task import FitTask
from experiments.harness.lsq import HeadSolver, linear_head, solve
from experiments.harness.store import ResultStore
from experiments.poisson.pde import PoissonProblem
from experiments.poisson.task import PoissonTask, autograd_laplacian
from gmnm import GMNM


def test_solve_matches_lstsq_on_a_random_system(float64):
    g = torch.Generator().manual_seed(0)
    A, b = torch.randn(200, 30, generator=g), torch.randn(200, 3, generator=g)
    sol = solve(A, b)
    ref = torch.linalg.lstsq(A, b, driver="gelsd").solution
    torch.testing.assert_close(sol.weights, ref, rtol=1e-10, atol=1e-12)
    assert sol.ridge == 0 and 1 < sol.cond < 100  # a Gaussian matrix this shape is well conditioned


def test_rank_deficient_system_is_regularised_not_nan(float64, caplog):
    g = torch.Generator().manual_seed(1)
    A = torch.randn(100, 10, generator=g)
    A = torch.cat([A, A[:, :3]], 1)  # three repeated columns: rank 10 of 13
    b = torch.randn(100, 1, generator=g)
    sol = solve(A, b)
    assert torch.isfinite(sol.weights).all() and sol.ridge > 0 and sol.cond > 1e12
    ref = torch.linalg.pinv(A) @ b  # the minimum-norm solution
    residual = lambda w: float((A @ w - b).square().sum())  # noqa: E731 (the objective, as written)
    assert residual(sol.weights) == pytest.approx(residual(ref), rel=1e-4)  # as good a fit, to rounding
    # a ridge far above rounding (rcond 1e-6) picks the minimum-norm solution among the fits
    torch.testing.assert_close(solve(A, b, rcond=1e-6).weights, ref, rtol=1e-4, atol=1e-4)
    with pytest.raises(FloatingPointError, match="non-finite"):
        solve(torch.full((5, 2), math.nan), torch.zeros(5, 1))


def test_more_unknowns_than_points_takes_the_ridge(float64):
    A, b = torch.randn(5, 20), torch.randn(5, 1)
    sol = solve(A, b)
    assert sol.ridge > 0
    torch.testing.assert_close(A @ sol.weights, b, rtol=1e-8, atol=1e-8)  # interpolates the points


def _fit_task(dim=2, n=300):
    task = FitTask(dim=dim, level=1, n_train=n, n_test=n)
    task.setup(torch.device("cpu"), torch.float64)
    return task


def _reduced(model, task, head):
    """F(theta) = min_w ||A(theta) w - b||^2, by an independent solve (lstsq)."""
    with torch.no_grad():
        A, b = task.lsq_system(head, None)
    w = torch.linalg.lstsq(A, b, driver="gelsd").solution
    return float((A @ w - b).square().sum())


@pytest.mark.parametrize(
    "make",
    [
        lambda: GMNM(2, 1, 12, bias=True, sigma_init=0.5),
        lambda: RBFNetwork(2, 1, 12, sigma_init=0.5),
        lambda: MLP(2, 1, hidden=[8, 8], activation="tanh"),
    ],
    ids=["gmnm", "rbf", "mlp"],
)
def test_reduced_gradient_matches_finite_differences(float64, make):
    torch.manual_seed(0)
    model, task = make(), _fit_task()
    solver = HeadSolver(model, task)
    solver.fit()
    loss = task.loss(model, task.train_set)  # the task's loss with w* in the head: F(theta)
    assert float(loss.detach()) == pytest.approx(_reduced(model, task, solver.head), rel=1e-9)
    params = [p for p in model.parameters() if all(p is not q for q in solver.params)]
    grads = torch.autograd.grad(loss, params)
    h = 1e-6
    for p, grad in zip(params, grads):
        for idx in [(0,) * p.dim(), tuple(s - 1 for s in p.shape)]:
            with torch.no_grad():
                p[idx] += h
            up = _reduced(model, task, solver.head)
            with torch.no_grad():
                p[idx] -= 2 * h
            down = _reduced(model, task, solver.head)
            with torch.no_grad():
                p[idx] += h
            assert float(grad[idx]) == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-9)


def test_fixed_centre_gmnm_recovers_a_function_in_its_span(float64):
    torch.manual_seed(0)
    model = GMNM(2, 1, 25, trainable_mu=False, mu_init="grid", sigma_init=0.4, bias=True)
    truth = GMNM(2, 1, 25, trainable_mu=False, mu_init="grid", sigma_init=0.4, bias=True)
    task = _fit_task()
    with torch.no_grad():  # the target: another mixture of the same Gaussians
        x_train, x_test = task.train_set[0], task.test_set[0]
        task.train_set = (x_train, truth(x_train))
        task.test_set = (x_test, truth(x_test))
    HeadSolver(model, task).fit()
    torch.testing.assert_close(model.pi, truth.pi, rtol=1e-9, atol=1e-9)
    assert float((model(x_test) - truth(x_test)).detach().square().mean()) < 1e-24


def test_poisson_system_is_the_task_loss_and_gaussian_laplacians_are_exact(float64):
    torch.manual_seed(0)
    task = PoissonTask(
        PoissonProblem("exp(-4*((x - 0.3)**2 + (y + 0.2)**2))"), n_interior=50, n_boundary_per_edge=6, eval_grid=5
    )
    task.setup(torch.device("cpu"), torch.float64)
    for model in (
        GMNM(2, 1, 9, projection="full"),
        GMNM(2, 1, 9, projection="ridge", bias=True),
        RBFNetwork(2, 1, 9),
        MLP(2, 1, hidden=[6, 6], activation="tanh"),
    ):
        head = linear_head(model)
        A, b = task.lsq_system(head, None)
        w = torch.cat([head.weight.T, head.bias[None]]) if head.bias is not None else head.weight.T
        assert float((A @ w - b).square().sum()) == pytest.approx(float(task.loss(model, None)), rel=1e-10)
        # each feature's Laplacian against double backward, one feature at a time
        x = task.interior[:7]
        lap = head.laplacians(x)
        for j in range(lap.shape[1]):
            one = lambda p, j=j: head.features(p)[:, j : j + 1]  # noqa: E731 (feature j alone)
            torch.testing.assert_close(lap[:, j : j + 1], autograd_laplacian(one, x, False), rtol=1e-9, atol=1e-10)


def test_poisson_lsq_head_beats_the_papers_gmnm_error(float64):
    # 400 Gaussians on a grid, the head alone solved (no gradient step): the basis is this good
    task = PoissonTask(PoissonProblem("sin(pi*x)*sin(pi*y)"), n_interior=900, n_boundary_per_edge=31, eval_grid=41)
    task.setup(torch.device("cpu"), torch.float64)
    model = GMNM(2, 1, 400, mu_init="grid", sigma_init=0.3)
    HeadSolver(model, task).fit()
    assert task.evaluate(model)["l2"] < 5.1e-9  # Table 1's GMNM


def test_width_selection_reads_validation_only(float64):
    torch.manual_seed(0)
    task = _fit_task(dim=1, n=200)
    model = GMNM(1, 1, 30, sigma_init=0.05)
    solver = HeadSolver(model, task)
    calls = []
    evaluate = task.evaluate
    task.evaluate = lambda m: calls.append("test") or evaluate(m)  # metrics are recorded, not chosen on
    scan = solver.select_width([0.5, 1.0, 4.0])
    best = min(scan, key=lambda r: r["validation_loss"])
    assert float(model.scale[0, 0]) == pytest.approx(1 / (0.05 * best["width_factor"]))
    assert [r["width_factor"] for r in scan] == [0.5, 1.0, 4.0] and len(calls) == 3
    with pytest.raises(ValueError, match="positive factors"):
        solver.select_width([0.0])


def test_models_and_tasks_without_a_linear_least_squares_problem_are_refused(float64):
    with pytest.raises(ValueError, match="needs a model with a linear head .*KAN has none"):
        linear_head(KAN(2, 1, hidden=[2], grid=3))

    class Classification:
        pass

    with pytest.raises(ValueError, match="not a least-squares problem .* FitTask and PoissonTask"):
        HeadSolver(GMNM(2, 1, 4), Classification())


@pytest.mark.parametrize(
    "overrides,message",
    [
        (
            ["experiment=mnist", "model=gmnm_lsq"],
            "the least-squares head (model=gmnm_lsq) serves fit2d, fit1d, poisson",
        ),
        (["experiment=poisson", "model=kan", "+lsq=${lsq_protocol}"], "model=kan with the least-squares head: "),
    ],
)
def test_lsq_mode_refused_before_training(compose_cfg, tmp_path, overrides, message):
    from experiments.harness.errors import ConfigError
    from experiments.harness.runner import run_seeds

    cfg = compose_cfg("profile=smoke", *overrides)
    with pytest.raises(ConfigError, match=re.escape(message)):
        run_seeds(cfg, [0])
    assert not (tmp_path / "store").exists() or not list(ResultStore(tmp_path / "store").records())


@pytest.mark.parametrize(
    "experiment,model",
    [("poisson", "gmnm_lsq"), ("poisson", "pinn_lsq"), ("fit2d", "mlp_relu_lsq"), ("fit1d", "rbf_lsq")],
)
def test_lsq_trial_records_its_solves_and_width_scan(tmp_path, experiment, model):
    r = subprocess.run(
        command(tmp_path, "profile=smoke", f"experiment={experiment}", f"model={model}"),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    [record] = ResultStore(tmp_path / "store").records()
    assert record["status"] == "complete" and record["label"].endswith("(LSQ head)")
    # the experiment's scan of initial widths; an MLP's (the PINN's too) reaches sharper first layers
    mlp = model in ("mlp_relu_lsq", "pinn_lsq")
    widths = [0.05, 0.1, 0.25, 0.5, 1, 2] if mlp else [0.5, 1, 1.5, 2, 3, 4]
    assert record["config"]["lsq"]["widths"] == widths
    assert [row["width_factor"] for row in record["lsq_widths"]] == widths
    assert all("lsq_cond" in row and "lsq_ridge" in row for row in record["history"])
    first = record["history"][0]  # step 0: the head solved for the initial (chosen-width) features
    metric = "l2" if experiment == "poisson" else "train_mse"
    chosen = min(record["lsq_widths"], key=lambda row: row["validation_loss"])
    assert first[metric] == pytest.approx(chosen[metric], rel=1e-6)


def test_a_tanh_mlps_head_is_solved_from_sharper_first_layers_than_pytorchs(compose_cfg):
    """At PyTorch's initial scale a tanh MLP's features are nearly linear on [-1, 1]^2: the solved head fits
    fit2d's level 0 no better than the mean. Its width scan reaches first layers up to 20x sharper, and picks
    one, where the fit is better than the mean (conf/model/mlp_relu.yaml)."""
    torch.manual_seed(0)
    cfg = compose_cfg("experiment=fit2d", "model=mlp_tanh_lsq", "profile=smoke", "task.level=0")
    assert min(cfg.lsq.widths) < 0.5 <= max(cfg.lsq.widths)
    task = FitTask(dim=2, level=0, n_train=2000, n_test=500)
    task.setup(torch.device("cpu"), torch.float64)
    model = MLP(2, 1, hidden=[30, 30], activation="tanh").double()
    head = HeadSolver(model, task)
    rows = head.select_width(list(cfg.lsq.widths))
    scan = {row["width_factor"]: row["train_nmse"] for row in rows}
    assert scan[1] > 0.95  # PyTorch's scale: about the mean
    chosen = min(rows, key=lambda row: row["validation_loss"])  # what the scan keeps, read on validation points
    assert chosen["width_factor"] < 0.5 and chosen["train_nmse"] < 0.9
