"""A toy model: the one file a user writes to bring a model (plus its YAML and lineup line)."""

from torch import Tensor, nn


class TinyNet(nn.Module):
    def __init__(self, in_features: int, out_features: int, width: int = 8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, width), nn.Tanh(), nn.Linear(width, out_features))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
