"""A model's linear head: the part of its output that is linear in some of its parameters.

    output(x) = features(x) @ weight.T + bias

Models that have one (GMNM: the mixture weights pi; an RBF network or MLP: its last Linear) return
it from `linear_head()`, so a solver can set the head exactly (a least-squares fit, or a linear PDE
solved for it) without knowing the model's insides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from torch import Tensor, nn


class LinearHead(NamedTuple):
    weight: nn.Parameter  # (out, k)
    bias: nn.Parameter | None  # (out,)
    features: Callable[[Tensor], Tensor]  # (N, d) -> (N, k): what the head mixes
    laplacians: Callable[[Tensor], Tensor]  # (N, d) -> (N, k): the Laplacian in x of each feature
    widen: Callable[[float], None]  # multiply the features' initial widths by a factor
