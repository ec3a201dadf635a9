"""Multi-layer perceptron with a chosen activation (the paper's MLP and PINN baselines)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, hessian, vmap

from gmnm.head import LinearHead
from gmnm.utils import check_sizes

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "silu": nn.SiLU, "gelu": nn.GELU}


class MLP(nn.Module):
    """(..., in_features) -> (..., out_features) through Linear layers of widths `hidden`; the
    activation follows every hidden Linear, not the last."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (32, 32),
        activation: str = "relu",
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_sizes("MLP", in_features=in_features, out_features=out_features, hidden=list(hidden))
        widths = [in_features, *hidden, out_features]
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b, device=device, dtype=dtype))
            if i < len(widths) - 2:
                layers.append(ACTIVATIONS[activation]())
        self.net = nn.Sequential(*layers)
        self.widths, self.activation = widths, activation

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def linear_head(self) -> LinearHead:
        """The last Linear over everything before it (the features); widening divides the first
        layer's weights, the analogue of a wider Gaussian."""
        body, head = self.net[:-1], self.net[-1]

        def widen(factor: float) -> None:
            with torch.no_grad():
                self.net[0].weight.div_(factor)

        return LinearHead(head.weight, head.bias, body, lambda x: _laplacians(body, x), widen)

    def extra_repr(self) -> str:
        return f"widths={self.widths}, activation={self.activation!r}"


def _laplacians(body: nn.Module, x: Tensor) -> Tensor:
    """The Laplacian of each output of body at each point, by torch.func: (N, d) -> (N, k)."""
    params = {name: p.detach() for name, p in body.named_parameters()}  # a solve differentiates nothing

    def f(point: Tensor) -> Tensor:  # (d,) -> (k,)
        return functional_call(body, params, (point[None],))[0]

    return vmap(hessian(f))(x).diagonal(dim1=-2, dim2=-1).sum(-1)  # (N, k, d, d) -> (N, k)
