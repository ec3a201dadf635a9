"""Multi-layer perceptron with a chosen activation (the paper's MLP and PINN baselines)."""

from __future__ import annotations

from torch import Tensor, nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "silu": nn.SiLU, "gelu": nn.GELU}


class MLP(nn.Module):
    """widths = [in, hidden..., out]; the activation follows every hidden Linear, not the last."""

    def __init__(self, widths: list[int], activation: str = "relu", device=None, dtype=None):
        super().__init__()
        widths = list(widths)
        if len(widths) < 2 or any(not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"MLP: widths must list at least two positive integers, got {widths!r}")
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

    def extra_repr(self) -> str:
        return f"widths={self.widths}, activation={self.activation!r}"
