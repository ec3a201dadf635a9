"""Hydra's basic sweeper, handing the seeds of one configuration to one process
(experiments/harness/sweep.py says how; Hydra requires its plugins to live in this namespace package),
and checking every job's config and the result store before the first job starts."""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.utils import get_class
from omegaconf import OmegaConf, open_dict

from experiments.harness.build import build
from experiments.harness.config import check_model
from experiments.harness.errors import ConfigError, exit_with
from experiments.harness.group import seeded
from experiments.harness.locks import is_stale, lock_path
from experiments.harness.schema import validate
from experiments.harness.store import ResultStore, StoreError
from experiments.harness.sweep import group_seeds

log = logging.getLogger(__name__)


class SeedGroupingSweeper(BasicSweeper):
    def sweep(self, arguments: list[str]):
        """Hydra's sweep, then one line counting its trials: in the store, left to other processes that are
        training them, and not trained (a job that failed), so a sweep never ends short without saying so."""
        self._planned: list[tuple[str, str, str]] = []  # (store, experiment, key) of every trial launched
        try:
            return super().sweep(arguments)
        finally:
            if self._planned:
                line, complete = tally(self._planned)
                print(line, file=sys.stdout if complete else sys.stderr, flush=True)

    def get_job_batch(self) -> Sequence[Sequence[str]]:
        return group_seeds(super().get_job_batch(), self._group_size)

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Every job's config composes and passes experiments.harness.schema, and the store takes records:
        else one line and exit 2 before any job runs (a bad value fails the sweep, not its 40th job)."""
        checked, built, planned = set(), set(), []
        for overrides in batch:
            cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            try:
                check_model(cfg)
                validate(cfg, overrides)
                key = (cfg.model_name, OmegaConf.to_yaml(cfg.model), OmegaConf.to_yaml(cfg.task))
                if key not in built:  # the constructors' own checks (a size a model refuses), once each
                    build(cfg.task, "task")
                    build(cfg.model, f"model={cfg.model_name}")
                    built.add(key)
                where = (cfg.paths.store_dir, cfg.experiment_name)
                if where not in checked:
                    ResultStore(where[0]).check_writable(where[1])
                    checked.add(where)
                job = copy.deepcopy(cfg)
                with open_dict(job):
                    del job["hydra"]  # as Hydra hands the job its config
                for seed in list(job.seed_group) if job.get("seed_group") else [job.seed]:
                    planned.append((*where, seeded(job, seed).key))
            except (ConfigError, StoreError) as e:
                exit_with(e)
        self._planned += planned  # counted at the end only once the whole batch is launched

    def _group_size(self, overrides: list[str]) -> int:
        """How many seeds of this configuration one job may take (its composed config decides)."""
        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
        size = cfg.trainer.get("seeds_per_process", 1) or 1
        if not isinstance(size, int) or size < 1:
            return 1  # a bad value: validate_batch_is_legal stops the sweep with its key
        cls = get_class(cfg.model._target_)
        vectorizes = cls.vectorizes(cfg.model) if hasattr(cls, "vectorizes") else getattr(cls, "vectorizable", True)
        if size > 1 and not vectorizes:
            log.info("%s cannot be vectorised: one seed per job", cfg.model_name)
            return 1
        return size


def tally(planned: list[tuple[str, str, str]]) -> tuple[str, bool]:
    """(one line counting planned trials by where they stand now, whether all are in the store)."""
    done = others = 0
    for store_dir, experiment, key in planned:
        store = ResultStore(store_dir)
        if store.finished(experiment, key) is not None:
            done += 1
        elif not is_stale(lock_path(store.path(experiment, key))):
            others += 1  # claimed by a live process: it writes the record when it ends
    missing = len(planned) - done - others
    if done == len(planned):
        return f"sweep: all {len(planned)} trials are in the store", True
    if missing == 0:  # nothing failed: the rest is another process's, which writes its records when it ends
        return (
            f"sweep: {done} of {len(planned)} trials in the store; the other {others} are being trained by other "
            f"processes, which write their records when they end",
            False,
        )
    return (
        f"sweep: {done} of {len(planned)} trials in the store, {others} left to other processes training them, "
        f"{missing} not trained (see the errors above); run the sweep again for the missing ones",
        False,
    )
