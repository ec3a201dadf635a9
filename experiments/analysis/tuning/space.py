"""A search space as conf/ declares it, checked before any trial, and turned into overrides.

Each experiment declares the knobs all its models share (`tune.space`: the learning rate), each
model its own (`search:` in conf/model/<name>.yaml). An entry maps an override key to one of

    {float: [low, high], log: true}   a real range (log scale when log is true)
    {int: [low, high]}                an integer range, both ends included
    {choice: [a, b, ...]}             values (numbers, strings, booleans or lists), duplicates dropped

No Hydra or Optuna state here: `parse` checks a composed config's space, `check_sizes` that no
value buys a model more parameters, `suggest` draws from an Optuna trial, `override` writes a
value as a Hydra command-line override.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from experiments.harness.errors import ConfigError

KINDS = ("float", "int", "choice")


@dataclass(frozen=True)
class Param:
    key: str  # the override key, e.g. trainer.optimizer.lr
    kind: str  # float | int | choice
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()  # for choice: the values, as plain Python objects
    new: bool = False  # the key is a constructor argument the config does not set: `+key=value`

    def extremes(self) -> list[Any]:
        """The values that bound what this parameter can do to a model's size: both ends, or every choice."""
        return list(self.choices) if self.kind == "choice" else [self.low, self.high]

    def value(self, drawn: Any) -> Any:
        """The config value of what Optuna drew (a choice is drawn by its label)."""
        if self.kind != "choice":
            return drawn
        return {_label(c): c for c in self.choices}[drawn]


def parse(cfg: DictConfig) -> list[Param]:
    """The search space of a composed trial config (tune.space, then the model's search), checked:
    every key a config value or an argument of the class that reads it, every range non-empty and
    ordered. ConfigError (one line, the key named) otherwise."""
    entries = {**_container(cfg.get("tune", {}).get("space")), **_container(cfg.get("search"))}
    if not entries:
        raise ConfigError(
            f"model={cfg.model_name} in experiment={cfg.experiment_name} has no search space: "
            f"set tune.space in the experiment file or search: in conf/model/{cfg.model_name}.yaml"
        )
    return [_param(cfg, key, spec) for key, spec in entries.items()]


def suggest(trial, params: list[Param]) -> dict[str, Any]:
    """Draw every parameter from an Optuna trial: {key: config value}."""
    drawn = {}
    for p in params:
        if p.kind == "float":
            drawn[p.key] = trial.suggest_float(p.key, p.low, p.high, log=p.log)
        elif p.kind == "int":
            drawn[p.key] = trial.suggest_int(p.key, int(p.low), int(p.high), log=p.log)
        else:
            drawn[p.key] = p.value(trial.suggest_categorical(p.key, [_label(c) for c in p.choices]))
    return drawn


def values(params: list[Param], drawn: dict[str, Any]) -> dict[str, Any]:
    """Config values of what a stored trial drew (its `params`, choices by label)."""
    return {p.key: p.value(drawn[p.key]) for p in params}


def override(param: Param, value: Any) -> str:
    """`key=value` in Hydra's override grammar (`+key=value` for a key the config does not set)."""
    return f"{'+' if param.new else ''}{param.key}={literal(value)}"


def check_sizes(cfg: DictConfig, params: list[Param], compose: Callable[[list[str]], DictConfig]) -> None:
    """Build the model at every value that bounds its size (each choice, both ends of a model's
    range; compose: extra overrides -> the trial's config) and raise ConfigError, naming the key,
    when one has more parameters than the protocol's model: the search never buys a model more."""
    from hydra.utils import instantiate

    from gmnm import count_parameters

    limit = count_parameters(instantiate(cfg.model))
    probes = [(p, v) for p in params if p.kind == "choice" or p.key.startswith("model.") for v in p.extremes()]
    for p, v in probes:
        try:
            n = count_parameters(instantiate(compose([override(p, v)]).model))
        except Exception as e:  # noqa: BLE001 - a value the model rejects is a bad search space
            raise ConfigError(
                f"search space of model={cfg.model_name}: {p.key}={literal(v)} does not build "
                f"the model ({type(e).__name__}: {e})"
            ) from None
        if n > limit:
            raise ConfigError(
                f"search space of model={cfg.model_name} in experiment={cfg.experiment_name}: "
                f"{p.key}={literal(v)} gives {n:,} parameters, more than the protocol's {limit:,}; "
                f"tuning keeps sizes matched: narrow the range"
            )


def _param(cfg: DictConfig, key: str, spec: Any) -> Param:
    where = f"search space of model={cfg.model_name} in experiment={cfg.experiment_name}: {key}"
    if not isinstance(spec, dict) or len(set(spec) & set(KINDS)) != 1 or set(spec) - set(KINDS) - {"log"}:
        raise ConfigError(
            f"{where}: expected one of {{float: [low, high]}}, {{int: [low, high]}} or "
            f"{{choice: [...]}} (with log: true for a log scale), got {spec!r}"
        )
    new = _check_key(cfg, key, where)
    kind = next(k for k in KINDS if k in spec)
    log = bool(spec.get("log", False))
    if kind == "choice":
        values = spec["choice"]
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}: choice needs a non-empty list of values, got {values!r}")
        unique = list({_label(v): v for v in values}.values())
        return Param(key, kind, choices=tuple(unique), new=new)
    bounds = spec[kind]
    if not (
        isinstance(bounds, list)
        and len(bounds) == 2
        and all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
    ):
        raise ConfigError(f"{where}: {kind} needs [low, high], two finite numbers, got {bounds!r}")
    low, high = bounds
    if kind == "int" and not all(float(b).is_integer() for b in bounds):
        raise ConfigError(f"{where}: int needs integer bounds, got {bounds!r}")
    if not low < high:
        raise ConfigError(f"{where}: the range [{low}, {high}] is empty or inverted; write [low, high] with low < high")
    if log and low <= 0:
        raise ConfigError(f"{where}: a log scale needs low > 0, got [{low}, {high}]")
    return Param(key, kind, low=low, high=high, log=log, new=new)


def _check_key(cfg: DictConfig, key: str, where: str) -> bool:
    """Whether `key` must be added (+key): it is not in the config but is an argument of the
    nearest class above it (`_target_`). ConfigError when it is neither."""
    if OmegaConf.select(cfg, key, default=_ABSENT) is not _ABSENT:
        return False
    *parents, leaf = key.split(".")
    node = OmegaConf.select(cfg, ".".join(parents)) if parents else cfg
    target = node.get("_target_") if isinstance(node, DictConfig) else None
    if target is not None:
        from hydra.utils import get_class

        signature = inspect.signature(get_class(target).__init__)
        if leaf in signature.parameters:
            return True
    raise ConfigError(
        f"{where}: no such key in the configuration"
        + (f" and no argument of {target}" if target else "")
        + "; check the spelling against `python -m experiments.run --cfg job`"
    )


_ABSENT = object()


def _container(node) -> dict:
    if node is None:
        return {}
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, (DictConfig, ListConfig)) else dict(node)


def _label(value: Any) -> Any:
    """A choice's label for Optuna: the value itself if it is a scalar, else its override text."""
    return value if isinstance(value, (str, int, float, bool)) or value is None else literal(value)


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(literal(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    return str(value)
