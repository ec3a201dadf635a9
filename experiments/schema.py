"""The one check every entry point runs on a composed config before any work starts.

Types and ranges of the keys a user overrides, declared once: the keys every trial has, then
those of each task (by the class its `task._target_` names). A wrong value fails here, with the
key, the value and what is allowed, instead of deep inside torch minutes later. Checks that need
the objects themselves (a PDE's source, a model's sizes) stay in their constructors, which run
before training too (experiments.run turns their errors into the same one-line message).

Why a table rather than Hydra structured configs: the experiments' task and model nodes differ
in shape (a dataclass per task and model would repeat every constructor's signature), and values
such as `${scaled:20000}` resolve only once the profile is known; this checks the resolved values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from experiments.config import ConfigError


@dataclass(frozen=True)
class Rule:
    kind: type  # int, float, bool or str; an int is accepted where a float is asked
    low: float | None = None
    high: float | None = None
    open_low: bool = False   # low itself excluded
    open_high: bool = False
    choices: tuple = ()
    null: str = ""           # what null means where it is allowed ("" = not allowed)
    pattern: str = ""        # a str must match it (re.fullmatch)

    def allowed(self) -> str:
        if self.choices:
            text = "one of " + ", ".join(str(c).lower() if isinstance(c, bool) else str(c) for c in self.choices)
        else:
            text = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[self.kind]
            bounds = []
            if self.low is not None:
                bounds.append(f"{'>' if self.open_low else '>='} {self.low:g}")
            if self.high is not None:
                bounds.append(f"{'<' if self.open_high else '<='} {self.high:g}")
            text += (" " + " and ".join(bounds)) if bounds else ""
        return text + (f", or null ({self.null})" if self.null else "")

    def accepts(self, value) -> bool:
        if value is None:
            return bool(self.null)
        if self.choices:
            return any(value == c and type(value) is type(c) for c in self.choices)
        if isinstance(value, bool) != (self.kind is bool):
            return False
        if self.kind is float:
            ok = isinstance(value, (int, float))
        else:
            ok = isinstance(value, self.kind)
        if not ok:
            return False
        if self.pattern and not re.fullmatch(self.pattern, value):
            return False
        if self.low is not None and (value < self.low or (self.open_low and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.open_high and value == self.high)):
            return False
        return True


def count(low: int = 1, null: str = "") -> Rule:
    return Rule(int, low=low, null=null)


POSITIVE = Rule(float, low=0, open_low=True)
FRACTION = Rule(float, low=0, high=1, open_high=True)  # [0, 1)
SEED = count(0)
SWITCH = Rule(bool)

# Keys of every trial. Absent keys are skipped (finetune exists only where a trainer has one).
COMMON: dict[str, Rule] = {
    "seed": SEED,
    "trainer.steps": count(null="count epochs instead"),
    "trainer.epochs": count(null="count steps instead"),
    "trainer.eval_every": count(null="once per epoch"),
    "trainer.batch_size": count(null="full batch"),
    "trainer.optimizer.lr": POSITIVE,
    "trainer.finetune.steps": count(),
    "trainer.finetune.eval_every": count(),
    "trainer.finetune.optimizer.lr": POSITIVE,
    "trainer.finetune.optimizer.max_iter": count(),
    "trainer.finetune.optimizer.history_size": count(),
    "trainer.device": Rule(str, pattern=r"auto|cpu|cuda(:\d+)?|mps"),
    "trainer.dtype": Rule(str, choices=("float32", "float64")),
    "trainer.seeds_per_process": count(),
    "trainer.vectorize": Rule(str, choices=(True, False, "auto")),
    "trainer.progress": SWITCH,
    "lsq.steps": count(),
    "lsq.eval_every": count(),
    "lsq.lr": POSITIVE,
    "lsq.rcond": Rule(float, low=0, open_low=True, null="10 eps of the dtype"),
}

# Keys of each task, by its class name (the last part of task._target_).
TASKS: dict[str, dict[str, Rule]] = {
    "FitTask": {
        "task.dim": Rule(int, choices=(1, 2)),
        "task.level": Rule(int, choices=(0, 1, 2, 3)),
        "task.n_train": count(2),  # the target is standardised by the training set's variance
        "task.n_test": count(),
        "task.data_seed": SEED,
        "task.sigma": Rule(str, choices=("lower", "literal")),
        "task.standardize_target": SWITCH,
    },
    "PoissonTask": {
        "task.n_interior": count(2),
        "task.n_boundary_per_edge": count(2),
        "task.eval_grid": count(2),
        "task.pde_weight": Rule(float, low=0),
        "task.data_seed": SEED,
    },
    "TimeSeriesTask": {
        "task.n_samples": count(2),
        "task.window": count(),
        "task.train_fraction": Rule(float, low=0, high=1, open_low=True, open_high=True),
        "task.val_fraction": FRACTION,
        "task.split": Rule(str, choices=("chronological", "random")),
        "task.data_seed": SEED,
    },
    "ClassificationTask": {
        "task.n_train": count(null="the whole training split"),
        "task.n_test": count(null="the whole test split"),
        "task.val_fraction": FRACTION,
        "task.split_seed": SEED,
        "task.eval_batch_size": count(),
        "task.download": SWITCH,
        "task.verify": SWITCH,
        "task.loss": Rule(str, choices=("onehot_bce", "ce")),
    },
    "ReconstructionTask": {
        "task.n_train": count(null="the whole training split"),
        "task.n_test": count(null="the whole test split"),
        "task.eval_batch_size": count(),
        "task.n_show": count(0),
        "task.download": SWITCH,
        "task.verify": SWITCH,
    },
}


def problems(cfg: DictConfig) -> list[str]:
    """Every key of cfg whose value breaks its rule, as 'key=value: must be ...' lines."""
    rules = dict(COMMON)
    target = OmegaConf.select(cfg, "task._target_", default=None)
    if isinstance(target, str):
        rules.update(TASKS.get(target.rsplit(".", 1)[-1], {}))
    found = []
    for key, rule in rules.items():
        try:
            value = OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=True)
        except MissingMandatoryValue:
            found.append(f"{key} is not set: it must be {rule.allowed()}")
            continue
        except OmegaConfBaseException as e:  # an interpolation that does not resolve
            found.append(f"{key} cannot be resolved ({_first_line(e)})")
            continue
        if value is not _ABSENT and not rule.accepts(value):
            found.append(f"{key}={_show(value)}: must be {rule.allowed()}")
    group = OmegaConf.select(cfg, "seed_group", default=None)  # a sweep's seeds of one configuration
    if group is not None and not (OmegaConf.is_list(group) and group):
        found.append(f"seed_group={_show(group)}: must be a non-empty list of seeds, or null")
    elif group is not None:
        found += [f"seed={_show(s)} (of seed_group={_show(group)}): must be {SEED.allowed()}"
                  for s in group if not SEED.accepts(s)]
    return found


def validate(cfg: DictConfig) -> None:
    """Raise ConfigError naming every bad key of cfg, its value and what is allowed."""
    found = problems(cfg)
    if found:
        raise ConfigError("; ".join(found))


class _Absent:
    pass


_ABSENT = _Absent()


def _show(value) -> str:
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value)
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "null"
    return repr(value) if isinstance(value, str) else str(value)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
