"""The two classification losses, both functions of the softmax probabilities p = softmax(z).

- `ce`: categorical cross-entropy, -log p_y, averaged over the batch.
- `onehot_bce`: binary cross-entropy against the one-hot label, averaged over classes and batch,
  -mean_k [y_k log p_k + (1 - y_k) log(1 - p_k)]. This is what Keras's `binary_crossentropy`
  computes on a softmax output, and Table 3's magnitudes fit it (MNIST ~8e-3, CIFAR-100 ~0.035,
  far below any categorical cross-entropy there). Like Keras, p is clipped to [eps, 1 - eps],
  eps = 1e-7, which only matters for saturated classes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

EPS = 1e-7  # Keras's backend epsilon


def cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    """logits (B, K), labels (B,) int -> scalar."""
    return F.cross_entropy(logits, labels)


def onehot_bce(logits: Tensor, labels: Tensor) -> Tensor:
    """logits (B, K), labels (B,) int -> scalar."""
    logp = F.log_softmax(logits, dim=-1).clamp(math.log(EPS), math.log1p(-EPS))
    # log(1 - p) = log(-expm1(log p)), accurate where p is near 1 (log p near 0)
    log1mp = torch.log(-torch.expm1(logp))
    onehot = F.one_hot(labels, logits.shape[-1]).to(logits.dtype)
    return -(onehot * logp + (1 - onehot) * log1mp).mean()


LOSSES = {"ce": cross_entropy, "onehot_bce": onehot_bce}
