"""The Poisson experiment: PDE specs, Laplacians against exact ones, and runs."""

import math
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from baselines import KAN, MLP
from experiments.harness.tableio import read_rows
from experiments.poisson.pde import PoissonProblem
from experiments.poisson.task import PoissonTask, autograd_laplacian
from gmnm import GMNM, count_parameters

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("float64")  # references are float64; the default is restored after each test
PTS = torch.rand(50, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1


def test_paper_problem_and_derived_source_agree():
    given = PoissonProblem("sin(pi*x)*sin(pi*y)", "-2*pi**2*sin(pi*x)*sin(pi*y)")
    derived = PoissonProblem("sin(pi*x)*sin(pi*y)")
    expected = -2 * math.pi**2 * torch.sin(math.pi * PTS[:, :1]) * torch.sin(math.pi * PTS[:, 1:])
    torch.testing.assert_close(given.source(PTS), expected)
    torch.testing.assert_close(derived.source(PTS), expected)
    edge = torch.tensor([[-1.0, 0.3], [0.2, 1.0]])
    torch.testing.assert_close(given.boundary(edge), torch.zeros(2, 1), atol=1e-15, rtol=0)


def test_constant_expressions_broadcast():
    p = PoissonProblem("x**2 + y**2")  # source is the constant 4
    torch.testing.assert_close(p.source(PTS), torch.full((50, 1), 4.0))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"exact": "sin(pi*x)*sin(pi*y)", "source": "-pi**2*sin(pi*x)*sin(pi*y)"}, "is not the Laplacian"),
        ({"exact": "sin(pi*x"}, "cannot parse"),
        ({"exact": "sin(pi*z)"}, "only x and y are allowed"),
        ({"exact": "x", "domain": (1, -1)}, "high > low"),
    ],
)
def test_bad_problems_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PoissonProblem(**kwargs)


def test_autograd_laplacian_of_a_known_function():
    sinsin = torch.nn.Module()
    sinsin.forward = lambda x: torch.sin(math.pi * x[:, :1]) * torch.sin(math.pi * x[:, 1:])
    expected = -2 * math.pi**2 * sinsin(PTS)
    torch.testing.assert_close(autograd_laplacian(sinsin, PTS, create_graph=False), expected)


def test_mlp_laplacian_against_hand_derivation():
    # u = sum_j a_j tanh(w_j . x + b_j): lap u = sum_j a_j |w_j|^2 tanh''(.), tanh'' = -2 t (1 - t^2)
    torch.manual_seed(0)
    mlp = MLP(2, 1, hidden=[7], activation="tanh")
    w, b = mlp.net[0].weight, mlp.net[0].bias
    a = mlp.net[2].weight[0]
    t = torch.tanh(PTS @ w.T + b)
    expected = ((-2 * t * (1 - t**2)) * (w.square().sum(1) * a)).sum(1, keepdim=True)
    torch.testing.assert_close(autograd_laplacian(mlp, PTS, create_graph=False), expected.detach())


def test_kan_laplacian_against_finite_differences():
    # Cubic B-splines are C^2, so central differences (error O(h^2)) must agree closely.
    torch.manual_seed(0)
    kan = KAN(2, 1, hidden=[3], grid=5, k=3, dtype=torch.float64)
    x = PTS[:10] * 0.9
    h = 1e-4
    with torch.no_grad():
        fd = sum(kan(x + h * e) - 2 * kan(x) + kan(x - h * e) for e in torch.eye(2)) / h**2
    torch.testing.assert_close(autograd_laplacian(kan, x, create_graph=False), fd, rtol=1e-4, atol=1e-4)


def test_gmnm_closed_form_is_used_and_agrees():
    layer = GMNM(2, 1, 16, mu_init="grid", sigma_init=0.4)
    task = PoissonTask(PoissonProblem("sin(pi*x)*sin(pi*y)"), laplacian="auto")
    closed = task.laplacian(layer, PTS)
    torch.testing.assert_close(closed, layer.laplacian(PTS))
    forced = PoissonTask(PoissonProblem("x"), laplacian="autograd").laplacian(layer, PTS)
    torch.testing.assert_close(closed, forced.detach(), rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="has no closed-form Laplacian"):
        PoissonTask(PoissonProblem("x"), laplacian="closed_form").laplacian(MLP(2, 1, [3]), PTS)


def test_task_points_and_metrics():
    task = PoissonTask(PoissonProblem("sin(pi*x)*sin(pi*y)"), n_interior=30, n_boundary_per_edge=5, eval_grid=11)
    task.setup(torch.device("cpu"), torch.float64)
    assert task.interior.shape == (30, 2) and task.boundary.shape == (20, 2) and task.mesh.shape == (121, 2)
    assert bool((task.boundary.abs().max(1).values == 1).all())  # every boundary point is on an edge
    exact = torch.nn.Module()
    exact.forward = lambda x: torch.sin(math.pi * x[:, :1]) * torch.sin(math.pi * x[:, 1:])
    m = task.evaluate(exact)
    assert m["l2"] == 0 and m["rel_l2"] == 0 and m["bc_mse"] < 1e-30 and m["pde_mse"] < 1e-20
    zero = torch.nn.Module()
    zero.forward = lambda x: torch.zeros(x.shape[0], 1) + 0 * x[:, :1]
    m = task.evaluate(zero)
    assert m["rel_l2"] == pytest.approx(1.0) and m["l2"] == pytest.approx(float(task.exact.square().mean()))


def test_rbf_closed_form_laplacian_against_autograd():
    from baselines.rbf import RBFNetwork

    torch.manual_seed(0)
    net = RBFNetwork(2, 1, 12, sigma_init=0.5)
    with torch.no_grad():
        net.scale.add_(0.3 * torch.randn_like(net.scale))  # widths that differ per component
    torch.testing.assert_close(
        net.laplacian(PTS), autograd_laplacian(net, PTS, create_graph=False), rtol=1e-10, atol=1e-10
    )


def test_table1_counts(compose_cfg):
    paper = {r["model"]: int(r["n_params"]) for r in read_rows(ROOT / "results" / "paper" / "table1_poisson.csv")}
    for model, count in paper.items():
        cfg = compose_cfg("experiment=poisson", f"model={model}")
        ours = count_parameters(instantiate(cfg.model))
        if model == "kan":  # 130 edges x (grid + k + 2): no integer grid of pykan gives the paper's 10,600
            assert ours == 130 * (cfg.model.grid + cfg.model.k + 2) == 1300
        else:
            assert ours == count


@pytest.mark.parametrize("model", ["gmnm", "kan", "pinn", "rbf"])
def test_smoke_trial(compose_cfg, model):
    from experiments.harness.runner import run_trial

    record = run_trial(compose_cfg("experiment=poisson", f"model={model}", "profile=smoke"))
    assert record["status"] == "complete"
    assert [row["phase"] for row in record["history"]] == [0] * 11 + [1, 1]  # Adam 10 / 1, L-BFGS 2 / 1
    assert len(record["summary"]["ms_per_step_phases"]) == 2
    assert record["config"]["trainer"]["dtype"] == "float64"
    adam_end = next(r for r in record["history"] if r["step"] == 10)
    assert record["history"][-1]["loss"] < adam_end["loss"]  # L-BFGS moves (it once stalled)


def test_another_exact_solution_needs_no_code(compose_cfg):
    from experiments.harness.runner import run_trial

    record = run_trial(compose_cfg("experiment=poisson", "model=pinn", "profile=smoke", "pde@task.pde=bump"))
    assert record["status"] == "complete" and "exp(-4" in record["config"]["task"]["pde"]["exact"]
    inline = run_trial(
        compose_cfg(
            "experiment=poisson", "model=pinn", "profile=smoke", "task.pde.exact=x**2-y**2", "task.pde.source=null"
        )
    )
    assert inline["status"] == "complete" and inline["key"] != record["key"]


def test_poisson_phase_split_joins_the_columns():
    from experiments.poisson.report import _phase

    history = [{"step": s, "phase": p} for s, p in ((0, 0), (5, 0), (10, 0), (11, 1), (12, 1))]
    [adam] = _phase([{"history": history}], 0)
    [lbfgs] = _phase([{"history": history}], 1)
    assert [r["step"] for r in adam["history"]] == [0, 5, 10]
    assert [r["step"] for r in lbfgs["history"]] == [10, 11, 12]  # starts where Adam ended
