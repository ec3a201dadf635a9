"""Least-squares head (variable projection): solve a model's linear head exactly every step.

It lives in the harness because the training loop runs it before every loss (train.py) and the runner
builds it from the config; it knows a model only by its `linear_head()` and a task only by its
`lsq_system()`, so it names neither.

A GMNM's output is linear in its mixture weights pi (and bias); an MLP's, PINN's or RBF
network's in its last Linear. Where the task's loss is a least-squares problem in the output
(fitting; a linear PDE with its boundary values), the best head for the current nonlinear
parameters theta (centres, widths; hidden layers) is one linear solve:

    F(theta) = min_w ||A(theta) w - b||^2 (+ ridge ||w||^2)

The task builds A and b (`lsq_system`): features at the points, or the operator applied to each
feature, each row weighted so that ||A w - b||^2 is exactly the task's loss. theta then takes
optimizer steps on F. Its gradient needs no differentiation through the solve: at the minimiser
w*, dF/dtheta = d/dtheta ||A(theta) w* - b||^2 with w* held fixed (Golub and Pereyra, 1973), which
is the task's own loss with the head set to w*. So each step solves, copies w* into the head, and
back-propagates the ordinary loss into theta alone (tests/test_lsq.py checks it against finite
differences of F). Variable projection measured better than alternating (it is the same step;
alternating only adds steps on w, which the solve already does exactly).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import Enum

import torch
from torch import Tensor, nn

from gmnm.head import LinearHead

log = logging.getLogger(__name__)


@dataclass
class Solution:
    weights: Tensor  # (k, out)
    cond: float  # condition estimate of A: max |R_ii| / min |R_ii| of its QR (a lower bound), at most 1/tiny
    ridge: float  # the ridge lambda used (0 when A was well enough conditioned)


def solve(A: Tensor, b: Tensor, rcond: float | None = None) -> Solution:
    """argmin_w ||A w - b||^2, regularised only where A is (near) rank deficient.

    A: (n, k), b: (n, out). QR of A (Householder, backward stable: the normal equations would
    square the condition number, measured to lose 5 orders of the Poisson error). When the
    condition estimate exceeds 1 / rcond, the ridge lambda = (rcond ||A||_F)^2 is added by a second,
    small QR of [R; sqrt(lambda) I] (k x k, not n x k): min ||A w - b||^2 + lambda ||w||^2 has the
    same minimiser as min ||R w - Q^T b||^2 + lambda ||w||^2. rcond defaults to 10 eps of A's dtype
    (2.2e-15 in float64, 1.2e-6 in float32); on the Poisson problem, ridges of 1e-14 to 1e-8
    relative to ||A|| gave mesh errors 4e-15 to 2e-9: the smallest stable one is the best.
    """
    if A.dim() != 2 or b.dim() != 2 or A.shape[0] != b.shape[0]:
        raise ValueError(f"solve: A must be (n, k) and b (n, out), got {tuple(A.shape)} and {tuple(b.shape)}")
    if not (torch.isfinite(A).all() and torch.isfinite(b).all()):
        raise FloatingPointError(
            "least-squares head: the system has non-finite entries (the nonlinear "
            "parameters diverged); lower the learning rate"
        )
    n, k = A.shape
    rcond = 10 * torch.finfo(A.dtype).eps if rcond is None else rcond
    Q, R = torch.linalg.qr(A)  # Q (n, min(n, k)), R (min(n, k), k)
    c = Q.T @ b  # (min(n, k), out)
    diag = R.diagonal().abs()  # min(n, k) entries
    tiny = torch.finfo(A.dtype).tiny
    cond = min(float(diag.max() / diag.min().clamp_min(tiny)), 1 / tiny)  # finite, for the history
    if n >= k and cond * rcond <= 1:  # fewer points than unknowns (n < k) always takes the ridge
        w = torch.linalg.solve_triangular(R, c, upper=True)
        return Solution(w, cond, 0.0)
    root = rcond * float(torch.linalg.matrix_norm(A)) or tiny**0.5  # A = 0 still gets a ridge
    eye = torch.eye(k, dtype=A.dtype, device=A.device)
    Q2, R2 = torch.linalg.qr(torch.cat([R, root * eye]))  # (min(n,k) + k, k)
    w = torch.linalg.solve_triangular(R2, Q2.T @ torch.cat([c, c.new_zeros(k, c.shape[1])]), upper=True)
    return Solution(w, cond, root**2)


class Operator(Enum):
    """What a design matrix holds: the head's features at the points, or their Laplacian."""

    VALUE = "value"
    LAPLACIAN = "laplacian"


def design(head: LinearHead, x: Tensor, operator: Operator = Operator.VALUE) -> Tensor:
    """(N, d) -> (N, k [+ 1]): the head's inputs at x, or their Laplacian (the bias has none). The
    solve's unknowns are the rows of `weight` (out, k), then the bias (a column of ones)."""
    cols = head.features(x) if operator is Operator.VALUE else head.laplacians(x)
    if head.bias is not None:
        ones = torch.ones if operator is Operator.VALUE else torch.zeros
        cols = torch.cat([cols, ones(cols.shape[0], 1, dtype=cols.dtype, device=cols.device)], 1)
    return cols


@torch.no_grad()
def assign(head: LinearHead, w: Tensor) -> None:
    """w: (k [+ 1], out), the solve's solution, into the head."""
    k = head.weight.shape[1]
    head.weight.copy_(w[:k].T)
    if head.bias is not None:
        head.bias.copy_(w[k])


def head_params(head: LinearHead) -> list[nn.Parameter]:
    return [head.weight] + ([head.bias] if head.bias is not None else [])


def linear_head(model: nn.Module) -> LinearHead:
    """The model's linear head (its `linear_head()`); ValueError when it has none."""
    if not hasattr(model, "linear_head"):
        raise ValueError(
            f"the least-squares head needs a model with a linear head (a `linear_head()` method, as "
            f"GMNM, RBFNetwork and MLP have); {type(model).__name__} has none"
        )
    return model.linear_head()


class HeadSolver:
    """Solves `model`'s head for `task` (which provides `lsq_system`) and keeps what the solves did.

    fit(batch) sets the head to the least-squares solution over the batch's points (None: all
    training points); `info` is what the training history records of the last solve.
    """

    def __init__(self, model: nn.Module, task, rcond: float | None = None):
        if not hasattr(task, "lsq_system"):
            raise ValueError(
                f"{type(task).__name__}'s loss is not a least-squares problem in the model's output; "
                f"the least-squares head serves FitTask and PoissonTask"
            )
        self.model, self.task, self.rcond = model, task, rcond
        self.head = linear_head(model)
        self.info: dict[str, float] = {}
        self._warned = False

    @property
    def params(self) -> list[nn.Parameter]:
        return head_params(self.head)

    @torch.no_grad()
    def fit(self, batch=None) -> Solution:
        A, b = self.task.lsq_system(self.head, batch)  # (n, k), (n, out)
        try:
            sol = solve(A, b, self.rcond)
        except FloatingPointError as e:  # theta diverged: NaN head, so the trainer marks the trial diverged
            log.warning("%s", e)
            sol = Solution(
                torch.full((A.shape[1], b.shape[1]), math.nan, dtype=A.dtype, device=A.device), math.nan, math.nan
            )
        assign(self.head, sol.weights)
        if sol.ridge and not self._warned:
            log.info(
                "least-squares head: A is ill-conditioned (condition estimate %.1e, %d x %d); solved with ridge %.1e",
                sol.cond,
                *A.shape,
                sol.ridge,
            )
            self._warned = True
        self.info = {"lsq_cond": sol.cond, "lsq_ridge": sol.ridge}
        return sol

    def select_width(self, factors: list[float]) -> list[dict]:
        """Try each factor times the model's initial widths, the head solved on the training
        points; keep the one with the lowest validation loss (`task.validation_loss`, on points
        the solve never saw). Returns the scan, one row per factor, with the task's metrics too
        (for the report only; the choice reads the validation loss alone)."""
        if not factors or any(not f > 0 for f in factors):
            raise ValueError(f"lsq.widths must be a non-empty list of positive factors, got {factors!r}")
        start = {name: t.detach().clone() for name, t in self.model.state_dict().items()}
        scan = []
        for factor in factors:
            self.model.load_state_dict(start)
            self.head.widen(factor)
            self.fit()
            self.model.eval()
            val = float(self.task.validation_loss(self.model))  # the task manages autograd (Laplacians)
            scan.append({"width_factor": factor, "validation_loss": val, **self.info, **self.task.evaluate(self.model)})
            self.model.train()
        best = min(scan, key=lambda row: row["validation_loss"] if math.isfinite(row["validation_loss"]) else math.inf)
        self.model.load_state_dict(start)
        self.head.widen(best["width_factor"])
        return scan
