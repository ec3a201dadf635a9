"""Building a task or model from its config node, a constructor's complaint as a user error."""

from __future__ import annotations

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from experiments.harness.errors import ConfigError


def build(node: DictConfig, what: str):
    """instantiate(node); a constructor's ValueError/TypeError about its arguments becomes a
    one-line ConfigError naming `what` (e.g. "model=gmnm"), anything else propagates."""
    try:
        return instantiate(node)
    except InstantiationException as e:
        cause = e.__cause__ if isinstance(e.__cause__, (ValueError, TypeError)) else None
        if cause is None:
            raise
        raise ConfigError(f"{what} cannot be built from its config: {cause}") from e
