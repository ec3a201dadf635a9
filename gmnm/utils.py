"""Small helpers the modules share: their parameter count, and the check of their size arguments."""

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


def check_sizes(owner: str, hint: str = "", **sizes) -> None:
    """ValueError naming `owner` and the first size that is not a positive integer (a list: not all of them);
    `hint` says what else the caller accepts."""
    for name, value in sizes.items():
        many = isinstance(value, (list, tuple))
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in (value if many else [value])):
            what = "positive integers" if many else "a positive integer"
            raise ValueError(f"{owner}: {name} must be {what}{hint}, got {value!r}")
