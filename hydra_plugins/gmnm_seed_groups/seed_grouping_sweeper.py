"""Hydra's basic sweeper, handing the seeds of one configuration to one process
(experiments/sweep.py says how; Hydra requires its plugins to live in this namespace package)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.utils import get_class

from experiments.sweep import group_seeds

log = logging.getLogger(__name__)


class SeedGroupingSweeper(BasicSweeper):
    def get_job_batch(self) -> Sequence[Sequence[str]]:
        return group_seeds(super().get_job_batch(), self._group_size)

    def _group_size(self, overrides: list[str]) -> int:
        """How many seeds of this configuration one job may take (its composed config decides)."""
        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
        size = cfg.trainer.get("seeds_per_process", 1) or 1
        if size > 1 and not getattr(get_class(cfg.model._target_), "vectorizable", True):
            log.info("%s cannot be vectorised: one seed per job", cfg.model_name)
            return 1
        return size
