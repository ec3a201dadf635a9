"""A trial group: the seeds of one configuration that one process claims, trains and stores.

A sweep hands a process the seeds of one configuration (experiments/harness/sweep.py); each seed is a
`Trial` exactly as its own sequential run composes it, and the group carries what every record of it
needs: the configuration's hash, the store, and the launch (its overrides and the experiment's sweep keys)
that tells the report whether the trials belong to the experiment's protocol.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from omegaconf import DictConfig, OmegaConf, open_dict

from experiments.harness.config import config_hash, override_key, trial_key
from experiments.harness.store import ResultStore


class Trial(NamedTuple):
    cfg: DictConfig  # as the trial of this seed alone composes it (values that follow the seed re-resolved)
    config: dict  # cfg resolved: what its record keeps and its key digests
    key: str

    @property
    def seed(self) -> int:
        return self.config["seed"]


def seeded(cfg: DictConfig, seed: int) -> Trial:
    """The sequential trial of `seed` under cfg."""
    one = copy.deepcopy(cfg)  # deep: interpolations such as ${seed} must resolve against this copy
    with open_dict(one):
        one.seed, one.seed_group = seed, None
    config = OmegaConf.to_container(one, resolve=True)
    return Trial(one, config, trial_key(config))


@dataclass(frozen=True)
class TrialGroup:
    cfg: DictConfig  # the configuration the process composed (its first seed's)
    trials: tuple[Trial, ...]
    config_hash: str  # the configuration's, the seed left out (also where a value follows it: KAN's ${seed})
    store: ResultStore
    overrides: tuple[str, ...] | None = None  # the launch's command-line overrides; None: the Python API
    sweep_keys: tuple[str, ...] = ()  # the keys the experiment's own sweep varies (beside model and seed)

    @classmethod
    def compose(
        cls, cfg: DictConfig, seeds: list[int], overrides: list[str] | None = None, sweep_keys=()
    ) -> TrialGroup:
        return cls(
            cfg,
            tuple(seeded(cfg, s) for s in seeds),
            config_hash(seeded(cfg, 0).config),
            ResultStore(cfg.paths.store_dir),
            None if overrides is None else tuple(overrides),
            tuple(sweep_keys),
        )

    @property
    def experiment(self) -> str:
        return self.cfg.experiment_name

    def only(self, trials) -> TrialGroup:
        """This group narrowed to some of its trials (composed by the first of them)."""
        trials = tuple(trials)
        return dataclasses.replace(self, cfg=trials[0].cfg, trials=trials)

    def shares_data(self) -> bool:
        """Whether one task serves every trial; not when the data follow the seed (protocol=redrawn)."""
        return len({json.dumps(t.config["task"], sort_keys=True) for t in self.trials}) == 1

    def path(self, trial: Trial) -> Path:
        return self.store.path(self.experiment, trial.key)

    def launch(self, trial: Trial) -> list[str] | None:
        """The overrides that launch this trial alone: the group's, with its own seed."""
        if self.overrides is None:
            return None
        return [o for o in self.overrides if override_key(o) not in ("seed", "seed_group")] + [f"seed={trial.seed}"]
