"""A 2-D Poisson problem  lap f = source  in a box,  f = boundary  on its edge, from expressions.

Each term is a config string in x and y (sympy syntax: sin, cos, exp, sinh, pi, **, ...), so a
new problem needs no code. `source` left null is derived as the symbolic Laplacian of `exact`,
and `boundary` left null is `exact` itself; a given `source` is checked against `exact`, so a
typo in one of them fails loudly instead of training towards the wrong solution.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import sympy
import torch
from torch import Tensor

_X, _Y = sympy.symbols("x y")
# sympy function name -> torch implementation, for lambdify
_TORCH = {
    name: getattr(torch, name)
    for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "sinh", "cosh", "tanh", "abs", "atan", "asin", "acos")
}
_TORCH.update({"Abs": torch.abs, "pi": math.pi, "E": math.e})


def _parse(name: str, text: str) -> sympy.Expr:
    try:
        expr = sympy.sympify(text, locals={"x": _X, "y": _Y})
    except (sympy.SympifyError, SyntaxError, TypeError) as e:
        raise ValueError(f"pde.{name}: cannot parse {text!r} ({e})") from e
    extra = expr.free_symbols - {_X, _Y}
    if extra:
        raise ValueError(f"pde.{name}: {text!r} uses {sorted(map(str, extra))}; only x and y are allowed")
    return expr


def _compile(expr: sympy.Expr) -> Callable[[Tensor], Tensor]:
    fn = sympy.lambdify((_X, _Y), expr, modules=[_TORCH, "math"])

    def evaluate(points: Tensor) -> Tensor:  # (N, 2) -> (N, 1)
        value = fn(points[:, 0], points[:, 1])
        return torch.as_tensor(value, dtype=points.dtype, device=points.device).expand(points.shape[0])[:, None]

    return evaluate


class PoissonProblem:
    def __init__(
        self,
        exact: str,
        source: str | None = None,
        boundary: str | None = None,
        domain: tuple[float, float] = (-1.0, 1.0),
    ):
        low, high = (float(v) for v in domain)
        if not high > low:
            raise ValueError(f"pde.domain must be (low, high) with high > low, got {domain!r}")
        self.domain = (low, high)
        exact_expr = _parse("exact", exact)
        laplacian = sympy.diff(exact_expr, _X, 2) + sympy.diff(exact_expr, _Y, 2)
        source_expr = laplacian if source is None else _parse("source", source)
        if source is not None and sympy.simplify(source_expr - laplacian) != 0:
            raise ValueError(
                f"pde.source {source!r} is not the Laplacian of pde.exact {exact!r} "
                f"(that is {sympy.simplify(laplacian)}); fix one, or set source: null "
                f"to derive it"
            )
        self.exact = _compile(exact_expr)
        self.source = _compile(source_expr)
        self.boundary = _compile(exact_expr if boundary is None else _parse("boundary", boundary))
        self.text = {
            "exact": str(exact_expr),
            "source": str(source_expr),
            "boundary": str(exact_expr if boundary is None else _parse("boundary", boundary)),
        }

    def title(self) -> str:
        """The problem in one line, canonical (sympy's printing), so equal problems read alike."""
        low, high = self.domain
        edge = "" if self.text["boundary"] == self.text["exact"] else f", f = {self.text['boundary']} on the edge"
        return f"exact {self.text['exact']} on [{low:g}, {high:g}]^2{edge}"
