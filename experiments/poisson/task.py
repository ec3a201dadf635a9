"""The Poisson task (§4.2, Eq. 4): the model never sees f, only its Laplacian and boundary values.

loss = pde_weight * MSE(lap model - source, interior points) + MSE(model - boundary, edge points)

Choices where the paper is silent, following pykan's own PDE example (the protocol §4.2 says
it follows): 51^2 interior points drawn uniformly at random, 51 evenly spaced points on each
edge, pde_weight 0.1. Metrics, every evaluation:
- l2: mean squared error of f on a held-out (eval_grid x eval_grid) mesh: the quantity pykan's
  example logs as "l2" (and plots as "L2 squared"), which we take to be the paper's "L2";
- rel_l2: ||f_pred - f|| / ||f|| on the same mesh;
- bc_mse and pde_mse: the two loss terms on the training points (Fig. 3 b, c);
- val_loss: the training loss at validation collocation points, what tuning and model selection
  read (residuals only: a user solving a PDE has no exact solution to select with).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import torch
from torch import Tensor, nn

from experiments.harness.lsq import Operator, design
from experiments.harness.schema import SEED, Rule, count
from experiments.harness.task import validation_generator
from experiments.poisson.pde import PoissonProblem

LAPLACIANS = ("auto", "autograd", "closed_form")


def func_laplacian(model, x: Tensor) -> Tensor:
    """The same trace of the Hessian with torch.func (forward over reverse, one point at a time
    under vmap): what a model called under vmap needs (experiments.harness.ensemble), where
    torch.autograd.grad is not available. (N, d) -> (N, out)."""
    from torch.func import jacfwd, jacrev, vmap

    def f(point: Tensor) -> Tensor:  # (d,) -> (out,)
        return model(point[None])[0]

    return vmap(jacfwd(jacrev(f)))(x).diagonal(dim1=-2, dim2=-1).sum(-1)  # (N, out, d, d) -> (N, out)


def autograd_laplacian(model: nn.Module, x: Tensor, create_graph: bool) -> Tensor:
    """sum_k d2 u / dx_k2 by double backward: (N, d) -> (N, 1). Points must not interact."""
    x = x.detach().requires_grad_(True)
    u = model(x)  # (N, 1)
    (grad,) = torch.autograd.grad(u.sum(), x, create_graph=True)  # (N, d)
    if not grad.requires_grad:  # the gradient does not depend on x or the weights: lap u = 0
        return torch.zeros_like(u)
    lap = sum(
        torch.autograd.grad(grad[:, k].sum(), x, create_graph=create_graph, retain_graph=True)[0][:, k]
        for k in range(x.shape[1])
    )
    return lap[:, None]


def _on_edges(along: Tensor, low: float, high: float) -> Tensor:
    """Points on the square's four edges, x = low, x = high, y = low, y = high in turn, at the
    positions `along` each edge: (4, n) -> (4 n, 2)."""
    lo, hi = torch.full_like(along[0], low), torch.full_like(along[0], high)
    return torch.cat([torch.stack(p, -1) for p in ((lo, along[0]), (hi, along[1]), (along[2], lo), (along[3], hi))])


class PoissonTask:
    # the keys a user may override, and what each allows (the one config check: experiments/harness/schema.py)
    config_keys: ClassVar[dict[str, Rule]] = {
        "task.n_interior": count(2),
        "task.n_boundary_per_edge": count(2),
        "task.eval_grid": count(2),
        "task.pde_weight": Rule(float, low=0),
        "task.data_seed": SEED,
    }

    def __init__(
        self,
        pde: PoissonProblem,
        dim: int = 2,
        n_interior: int = 2601,
        n_boundary_per_edge: int = 51,
        pde_weight: float = 0.1,
        eval_grid: int = 101,
        data_seed: int = 0,
        laplacian: str = "auto",
    ):
        if dim != 2:
            raise ValueError(f"PoissonTask: only 2-D problems are implemented, got dim={dim}")
        if laplacian not in LAPLACIANS:
            raise ValueError(f"PoissonTask: laplacian must be one of {LAPLACIANS}, got {laplacian!r}")
        for name, value in (
            ("n_interior", n_interior),
            ("n_boundary_per_edge", n_boundary_per_edge),
            ("eval_grid", eval_grid),
        ):
            if value < 2:
                raise ValueError(f"PoissonTask: {name} must be at least 2, got {value}")
        self.pde, self.dim, self.pde_weight, self.laplacian_mode = pde, dim, pde_weight, laplacian
        self.n_interior, self.n_boundary_per_edge, self.eval_grid = n_interior, n_boundary_per_edge, eval_grid
        self.data_seed = data_seed

    def laplacian(self, model: nn.Module, x: Tensor, create_graph: bool = True) -> Tensor:
        closed = hasattr(model, "laplacian") and self.laplacian_mode in ("auto", "closed_form")
        if self.laplacian_mode == "closed_form" and not hasattr(model, "laplacian"):
            raise ValueError(
                f"task.laplacian=closed_form but {type(model).__name__} has no closed-form "
                f"Laplacian; use task.laplacian=auto"
            )
        if closed:
            return model.laplacian(x)
        if getattr(model, "functional", False):  # a seed of a vectorised ensemble
            return func_laplacian(model, x)
        return autograd_laplacian(model, x, create_graph)

    def example_input(self, n: int) -> Tensor:
        """A batch of n inputs of the shape models of this task take (for checks and benchmarks)."""
        return torch.zeros(n, self.dim)

    def setup(self, device: torch.device, dtype: torch.dtype) -> None:
        low, high = self.pde.domain
        g = torch.Generator().manual_seed(self.data_seed)
        interior = low + (high - low) * torch.rand(self.n_interior, 2, generator=g, dtype=torch.float64)
        edge = torch.linspace(low, high, self.n_boundary_per_edge, dtype=torch.float64)
        boundary = _on_edges(edge.expand(4, -1), low, high)
        # Validation collocation points, for model selection (the least-squares head's width): as
        # many again, from another stream, the edge points drawn at random along the edges. A user
        # solving a PDE has no exact solution, so selection reads the PDE and boundary residuals.
        gv = validation_generator(self.data_seed)
        val_interior = low + (high - low) * torch.rand(self.n_interior, 2, generator=gv, dtype=torch.float64)
        along = low + (high - low) * torch.rand(4, self.n_boundary_per_edge, generator=gv, dtype=torch.float64)
        val_boundary = _on_edges(along, low, high)
        axis = torch.linspace(low, high, self.eval_grid, dtype=torch.float64)
        mesh = torch.cartesian_prod(axis, axis)  # (eval_grid^2, 2)

        def put(t: Tensor) -> Tensor:
            return t.to(device, dtype)

        self.interior, self.source = put(interior), put(self.pde.source(interior))  # (N, 2), (N, 1)
        self.boundary, self.boundary_values = put(boundary), put(self.pde.boundary(boundary))
        self.mesh, self.exact = put(mesh), put(self.pde.exact(mesh))
        self.val_interior, self.val_source = put(val_interior), put(self.pde.source(val_interior))
        self.val_boundary, self.val_boundary_values = put(val_boundary), put(self.pde.boundary(val_boundary))

    def title(self) -> str:
        return self.pde.title()

    def steps_per_epoch(self, batch_size: int | None) -> int:
        return 1  # every step sees every collocation point

    def batches(self, batch_size: int | None, generator: torch.Generator) -> Iterator[None]:
        if batch_size is not None:
            raise ValueError("PoissonTask trains full batch; set trainer.batch_size=null")
        while True:
            yield None  # the collocation points are fixed: every step sees all of them

    def loss(self, model: nn.Module, batch: None) -> Tensor:
        pde = (self.laplacian(model, self.interior) - self.source).square().mean()
        bc = (model(self.boundary) - self.boundary_values).square().mean()
        return self.pde_weight * pde + bc

    def lsq_system(self, head, batch: None) -> tuple[Tensor, Tensor]:
        """(A, b) with ||A w - b||^2 the training loss when the head (experiments/harness/lsq.py) holds w:
        the Laplacian of each feature at the interior points (rows times sqrt(pde_weight / N)),
        then each feature at the edge points (rows times sqrt(1 / N_edge)). Any linear PDE whose
        operator is the Laplacian, with any boundary values, is solved this way unchanged."""
        wi, wb = (self.pde_weight / self.interior.shape[0]) ** 0.5, (1 / self.boundary.shape[0]) ** 0.5
        A = torch.cat([wi * design(head, self.interior, Operator.LAPLACIAN), wb * design(head, self.boundary)])
        return A, torch.cat([wi * self.source, wb * self.boundary_values])  # (Ni + Nb, k), (Ni + Nb, 1)

    def validation_loss(self, model: nn.Module) -> Tensor:
        """The training loss at the validation collocation points: residuals only, no exact solution."""
        pde = (self.laplacian(model, self.val_interior, create_graph=False).detach() - self.val_source).square().mean()
        with torch.no_grad():
            bc = (model(self.val_boundary) - self.val_boundary_values).square().mean()
        return self.pde_weight * pde + bc

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        pde = (self.laplacian(model, self.interior, create_graph=False).detach() - self.source).square().mean()
        val = float(self.validation_loss(model))  # outside no_grad: an autograd Laplacian needs the graph
        with torch.no_grad():
            bc = (model(self.boundary) - self.boundary_values).square().mean()
            err = model(self.mesh) - self.exact
            return {
                "l2": float(err.square().mean()),
                "rel_l2": float(err.norm() / self.exact.norm()),
                "bc_mse": float(bc),
                "pde_mse": float(pde),
                "val_loss": val,
            }
