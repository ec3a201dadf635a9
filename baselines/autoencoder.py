"""The generation autoencoder of §5.2 / Fig. 4 (bottom), with an optional attention block on the
latent vector and an optional GMNM that re-weights the decoder's channels.

Table 4 gives only parameter counts. This design reproduces them within 0.03 %:
- encoder: 3x3 convolutions with ReLU (stride 2 halves the image), flatten, a Linear to the
  latent vector (320 features: the width Table 4's attention implies);
- decoder: a Linear back to the last encoder map's shape, 3x3 transposed convolutions with ReLU
  (stride 2 doubles), and a final 3x3 convolution to the image, with a sigmoid (pixels in [0, 1]);
- attention (optional): multi-head self-attention + LayerNorm on the latent vector, read as a
  sequence of one token, which is what gives Table 4's +411,520 = 4 (320^2 + 320) + 2 x 320.
  With a single token the softmax weights are all 1, so this block is a residual linear map and
  a LayerNorm: the count matches the paper, the "attention" does no attending;
- GMNM (optional): latent -> one factor per channel of the decoder's last feature map, which
  multiplies that map channel-wise just before the output convolution (§5.2).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from baselines.attention import SelfAttention


class AutoEncoder(nn.Module):
    """(B, C, S, S) images in [0, 1] -> (B, C, S, S) reconstructions in [0, 1].

    encoder / decoder: lists of (out_channels, stride) per 3x3 layer; the decoder list mirrors
    the encoder's, its strides undo the encoder's. gate: a module mapping (B, latent) ->
    (B, decoder's last channels), e.g. a GMNM; None for the plain AE.
    """

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        latent: int = 320,
        encoder: list[list[int]] = ((64, 2), (64, 2), (64, 1)),
        decoder: list[list[int]] = ((64, 1), (64, 2), (64, 2)),
        attention: bool = False,
        heads: int = 8,
        gate: nn.Module | None = None,
        channels_last: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        encoder, decoder = [tuple(x) for x in encoder], [tuple(x) for x in decoder]
        down = 1
        for _, stride in encoder:
            down *= stride
        up = 1
        for _, stride in decoder:
            up *= stride
        if image_size % down or up != down:
            raise ValueError(
                f"AutoEncoder: the encoder's strides must divide image_size ({image_size}) and "
                f"the decoder's must undo them; got encoder {encoder}, decoder {decoder}"
            )
        layers, c = [], in_channels
        for out, stride in encoder:
            layers += [nn.Conv2d(c, out, 3, stride=stride, padding=1, **fk), nn.ReLU()]
            c = out
        self.map_shape = (c, image_size // down, image_size // down)  # the last encoder map
        flat = c * self.map_shape[1] * self.map_shape[2]
        self.encode = nn.Sequential(*layers, nn.Flatten(), nn.Linear(flat, latent, **fk))  # (B, latent)
        self.attention = SelfAttention(latent, heads, **fk) if attention else None
        self.expand = nn.Sequential(nn.Linear(latent, flat, **fk), nn.ReLU())
        layers, c = [], self.map_shape[0]
        for out, stride in decoder:
            layers += [
                nn.ConvTranspose2d(c, out, 3, stride=stride, padding=1, output_padding=stride - 1, **fk),
                nn.ReLU(),
            ]
            c = out
        self.decode = nn.Sequential(*layers)
        self.gate = gate
        self.out = nn.Conv2d(c, in_channels, 3, padding=1, **fk)
        # Channels-last (NHWC): same maths, faster oneDNN convolutions on CPU (as in baselines/cnn.py)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        for convs in (self.encode, self.decode, self.out):
            convs.to(memory_format=self.memory_format)
        self.layout = {"latent": latent, "encoder": encoder, "decoder": decoder}

    def extra_repr(self) -> str:
        gate = "None" if self.gate is None else repr(self.gate).replace("\n", "")
        return (
            f"latent={self.layout['latent']}, encoder={self.layout['encoder']}, decoder={self.layout['decoder']}, "
            f"attention={self.attention is not None}, gate={gate}"
        )

    def prepare_for_vmap(self) -> None:
        """A stack of seeds runs under torch.func.vmap, which cannot query channels-last strides: the stack
        uses the default layout (the same maths; only the CPU speed of oneDNN's convolutions differs)."""
        self.memory_format = torch.contiguous_format

    def forward(self, x: Tensor) -> Tensor:
        z = self.encode(x.contiguous(memory_format=self.memory_format))  # (B, latent)
        if self.attention is not None:
            z = self.attention(z[:, None, :])[:, 0]  # (B, 1, latent): one token
        h = self.expand(z).reshape(-1, *self.map_shape).contiguous(memory_format=self.memory_format)
        h = self.decode(h)  # (B, c, S, S)
        if self.gate is not None:
            h = h * self.gate(z)[:, :, None, None]  # one factor per channel, from the latent
        return torch.sigmoid(self.out(h))
