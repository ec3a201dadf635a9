"""Small helpers shared by every table that prints model sizes."""

from __future__ import annotations

from torch import nn


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters of `module`.

    trainable_only=True (the default, as in the paper's "# Params") counts those with
    requires_grad, so a GMNM with trainable_mu=False does not count its fixed centres.
    Parameters shared between submodules are counted once.
    """
    seen, total = set(), 0
    for p in module.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total
