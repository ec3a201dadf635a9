"""An LSTM that reads a sequence and maps its last hidden state through a head (§5.3)."""

from __future__ import annotations

from torch import Tensor, nn


class LSTMRegressor(nn.Module):
    """(B, T, in_features) -> (B, out_features).

    head: any module mapping (B, hidden) -> (B, out_features); None is a Linear layer. The
    paper's LSTM(3)+GMNM passes a GMNM here.
    """

    def __init__(self, in_features: int, hidden: int, out_features: int = 1, head: nn.Module | None = None,
                 device=None, dtype=None):
        super().__init__()
        if hidden < 1 or in_features < 1:
            raise ValueError(f"LSTMRegressor: in_features and hidden must be positive, got "
                             f"{in_features}, {hidden}")
        self.lstm = nn.LSTM(in_features, hidden, batch_first=True, device=device, dtype=dtype)
        self.head = head if head is not None else nn.Linear(hidden, out_features, device=device, dtype=dtype)

    def extra_repr(self) -> str:
        head = type(self.head).__name__ if isinstance(self.head, nn.Linear) else repr(self.head).replace("\n", "")
        return f"in_features={self.lstm.input_size}, hidden={self.lstm.hidden_size}, head={head}"

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.lstm(x)  # (B, T, hidden)
        return self.head(out[:, -1])  # (B, out): the state after the last step
