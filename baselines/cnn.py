"""The classification CNN of §5.1 / Fig. 4 (top), with an optional attention block and a
pluggable head (a Linear layer, or a GMNM for CNN+GMNM).

The paper gives only parameter counts (Table 2). This design reproduces them: conv blocks
(3x3 'same' conv, BatchNorm, ReLU, 2x2 max-pool), an optional self-attention block over the
last block's positions (its 32 channels give Table 2's +4,288), flatten, one hidden Linear +
ReLU, then the head. MNIST with channels (32, 32, 32) and hidden 32 gives Table 2's 28,586
exactly; the CIFAR sizes are in conf/arch/cifar*_cnn*.yaml.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from baselines.attention import SpatialSelfAttention
from gmnm.utils import check_sizes


class CNN(nn.Module):
    """(B, in_channels, image_size, image_size) images -> (B, n_classes) logits."""

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        n_classes: int,
        channels: list[int] = (32, 32, 32),
        hidden: int = 32,
        attention: bool = False,
        heads: int = 4,
        head: nn.Module | None = None,
        channels_last: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        channels = list(channels)
        if not channels:
            raise ValueError("CNN: channels must give at least one block's width, got []")
        check_sizes("CNN", in_channels=in_channels, channels=channels, hidden=hidden)
        if n_classes < 2:
            raise ValueError(f"CNN: n_classes must be at least 2, got {n_classes!r}")
        size = image_size
        blocks: list[nn.Module] = []
        for c_in, c_out in zip([in_channels, *channels[:-1]], channels):
            if size < 2:
                raise ValueError(
                    f"CNN: {len(channels)} pooling blocks shrink a {image_size}px image below "
                    f"1px; use fewer channels entries"
                )
            blocks += [
                nn.Conv2d(c_in, c_out, 3, padding=1, device=device, dtype=dtype),
                nn.BatchNorm2d(c_out, device=device, dtype=dtype),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            size //= 2
        self.features = nn.Sequential(*blocks)
        self.attention = SpatialSelfAttention(channels[-1], heads, device=device, dtype=dtype) if attention else None
        self.hidden = nn.Sequential(
            nn.Flatten(), nn.Linear(channels[-1] * size * size, hidden, device=device, dtype=dtype), nn.ReLU()
        )
        self.head = head if head is not None else nn.Linear(hidden, n_classes, device=device, dtype=dtype)
        # Channels-last (NHWC) changes no maths, only strides: on CPU, oneDNN's convolutions
        # ran this model's training step 1.5x and inference 3x faster that way.
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.features.to(memory_format=self.memory_format)
        self.channels, self.attends = channels, attention

    def prepare_for_vmap(self) -> None:
        """A stack of seeds runs under torch.func.vmap, which cannot query channels-last strides: the stack
        uses the default layout (the same maths; only the CPU speed of oneDNN's convolutions differs)."""
        self.memory_format = torch.contiguous_format

    def extra_repr(self) -> str:
        head = type(self.head).__name__ if isinstance(self.head, nn.Linear) else repr(self.head).replace("\n", "")
        return f"channels={self.channels}, hidden={self.hidden[1].out_features}, attention={self.attends}, head={head}"

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x.contiguous(memory_format=self.memory_format))  # (B, C, s, s)
        if self.attention is not None:
            x = self.attention(x)
        return self.head(self.hidden(x))  # (B, hidden) -> (B, n_classes)
