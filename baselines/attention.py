"""A self-attention block: multi-head attention with a residual connection, then LayerNorm.

Tables 2 and 4 add exactly 4 (C^2 + C) + 2C parameters for attention (C = 32 and 320): the
Q, K, V and output projections with biases of one multi-head attention whose heads x key_dim
equals C, plus one LayerNorm over C. The count does not depend on the number of heads.
"""

from __future__ import annotations

from torch import Tensor, nn


class SelfAttention(nn.Module):
    """(B, N, C) tokens -> (B, N, C): LayerNorm(x + MHA(x, x, x)) (post-norm, as in Vaswani et al.)."""

    def __init__(self, channels: int, heads: int = 4, dropout: float = 0.0, device=None, dtype=None):
        super().__init__()
        if channels % heads:
            raise ValueError(f"SelfAttention: channels ({channels}) must be divisible by heads ({heads})")
        self.attn = nn.MultiheadAttention(
            channels, heads, dropout=dropout, batch_first=True, device=device, dtype=dtype
        )
        self.norm = nn.LayerNorm(channels, device=device, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.attn(x, x, x, need_weights=False)
        return self.norm(x + out)


class SpatialSelfAttention(SelfAttention):
    """(B, C, H, W) feature maps -> same shape: attention among the H*W positions, C features each."""

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # (B, H*W, C)
        return super().forward(tokens).transpose(1, 2).reshape(b, c, h, w)
