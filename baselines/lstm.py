"""An LSTM that reads a sequence and maps its last hidden state through a head (§5.3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class LSTMRegressor(nn.Module):
    """(B, T, in_features) -> (B, out_features).

    head: any module mapping (B, hidden) -> (B, out_features); None is a Linear layer. The
    paper's LSTM(3)+GMNM passes a GMNM here.
    """

    def __init__(
        self,
        in_features: int,
        hidden: int,
        out_features: int = 1,
        head: nn.Module | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if hidden < 1 or in_features < 1:
            raise ValueError(f"LSTMRegressor: in_features and hidden must be positive, got {in_features}, {hidden}")
        self.lstm = nn.LSTM(in_features, hidden, batch_first=True, device=device, dtype=dtype)
        self.head = head if head is not None else nn.Linear(hidden, out_features, device=device, dtype=dtype)
        self.unrolled = False  # True: the recurrence in plain tensor ops (prepare_for_vmap)

    def prepare_for_vmap(self) -> None:
        """torch.func.vmap has no rule for the fused LSTM kernel: step through time in plain ops."""
        self.unrolled = True

    def _unrolled_last(self, x: Tensor) -> Tensor:
        """nn.LSTM's equations (gates i, f, g, o, its parameter layout), step by step: (B, T, in) -> (B, H)."""
        lstm = self.lstm
        xw = x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + lstm.bias_hh_l0  # (B, T, 4H): the input part of every gate
        h = c = xw.new_zeros(x.shape[0], lstm.hidden_size)  # (B, H)
        for t in range(x.shape[1]):
            i, f, g, o = (xw[:, t] + h @ lstm.weight_hh_l0.T).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return h

    def extra_repr(self) -> str:
        head = type(self.head).__name__ if isinstance(self.head, nn.Linear) else repr(self.head).replace("\n", "")
        return f"in_features={self.lstm.input_size}, hidden={self.lstm.hidden_size}, head={head}"

    def forward(self, x: Tensor) -> Tensor:
        last = self._unrolled_last(x) if self.unrolled else self.lstm(x)[0][:, -1]  # (B, hidden)
        return self.head(last)  # (B, out): from the state after the last step
