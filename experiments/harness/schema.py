"""The one check every entry point runs on a composed config before any work starts.

Types and ranges of the keys a user overrides, declared once: the keys every trial has here, those
of each task on its class (`config_keys`, found through the family registry from `task._target_`). A wrong value fails here, with the
key, the value and what is allowed, instead of deep inside torch minutes later. Checks that need
the objects themselves (a PDE's source, a model's sizes) stay in their constructors, which run
before training too (experiments.run turns their errors into the same one-line message).

Why a table rather than Hydra structured configs: the experiments' task and model nodes differ
in shape (a dataclass per task and model would repeat every constructor's signature), and values
such as `${scaled:20000}` resolve only once the profile is known; this checks the resolved values.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from experiments.harness.env import DEVICES, DTYPES, VECTORIZE
from experiments.harness.errors import ConfigError, first_line


@dataclass(frozen=True)
class Rule:
    kind: type  # int, float, bool or str; an int is accepted where a float is asked
    low: float | None = None
    high: float | None = None
    open_low: bool = False  # low itself excluded
    open_high: bool = False
    choices: tuple = ()
    null: str = ""  # what null means where it is allowed ("" = not allowed)
    pattern: str = ""  # a str must match it (re.fullmatch)

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
    "trainer.device": Rule(str, pattern=DEVICES),
    "trainer.dtype": Rule(str, choices=tuple(DTYPES)),
    "trainer.seeds_per_process": count(),
    "trainer.vectorize": Rule(str, choices=VECTORIZE),
    "trainer.progress": SWITCH,
    "trainer.compile": SWITCH,
    "trainer.deterministic": SWITCH,
    "trainer.checkpoint_every_s": Rule(float, low=0, open_low=True, null="no checkpoints"),
    "lsq.steps": count(),
    "lsq.eval_every": count(),
    "lsq.lr": POSITIVE,
    "lsq.rcond": Rule(float, low=0, open_low=True, null="10 eps of the dtype"),
}


def problems(cfg: DictConfig) -> list[str]:
    """Every key of cfg whose value breaks its rule, as 'key=value: must be ...' lines."""
    rules, found = dict(COMMON), []
    target = OmegaConf.select(cfg, "task._target_", default=None)
    if isinstance(target, str):
        try:
            rules.update(task_keys(target))
        except ConfigError as e:
            found.append(str(e))
    for key, rule in rules.items():
        try:
            value = OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=True)
        except MissingMandatoryValue:
            found.append(f"{key} is not set: it must be {rule.allowed()}")
            continue
        except OmegaConfBaseException as e:  # an interpolation that does not resolve
            found.append(f"{key} cannot be resolved ({first_line(e)})")
            continue
        if value is not _ABSENT and not rule.accepts(value):
            found.append(f"{key}={_show(value)}: must be {rule.allowed()}")
    group = OmegaConf.select(cfg, "seed_group", default=None)  # a sweep's seeds of one configuration
    if group is not None and not (OmegaConf.is_list(group) and group):
        found.append(f"seed_group={_show(group)}: must be a non-empty list of seeds, or null")
    elif group is not None:
        found += [
            f"seed={_show(s)} (of seed_group={_show(group)}): must be {SEED.allowed()}"
            for s in group
            if not SEED.accepts(s)
        ]
    return found


def task_keys(target: str) -> dict[str, Rule]:
    """The config keys the task class `target` declares (its `config_keys`), found through the family
    registry (experiments/harness/registry.py); ConfigError when the class is not a registered task."""
    from hydra.utils import get_class

    from experiments.harness.registry import family_of_task

    try:
        task = get_class(target)
    except (ImportError, AttributeError, ValueError) as e:
        raise ConfigError(f"task._target_={target}: cannot be imported ({first_line(e)})") from None
    if family_of_task(task) is None:
        raise ConfigError(
            f"task._target_={target}: not the task of a registered family; its package's "
            f"__init__.py must call experiments.harness.registry.register (docs/running.md)"
        )
    return task.config_keys


def added(cfg: DictConfig, overrides) -> list[str]:
    """Keys the command line adds (`+key=value`) that nothing reads: each must be an argument of the class whose
    node it joins (the nearest `_target_`: `+model.sigma_scale` for GMNM). Anything else is a typo Hydra would
    store and every trial ignore; a key of one's own is declared in conf/ first (`++key` skips the check)."""
    from hydra.core.override_parser.types import OverrideType

    from experiments.harness.config import parse_override

    found, parsed = [], [parse_override(text) for text in overrides]
    replaced = {o.key_or_group for o in parsed if o.type == OverrideType.DEL}  # `~key +key=...`: a declared key anew
    for text, override in zip(overrides, parsed):
        key = override.key_or_group
        if (
            key in replaced
            or override.type != OverrideType.ADD
            or override.package is not None
            or key.startswith("hydra")
            or "/" in key
        ):
            continue
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(cfg, parent, default=None) if parent else cfg
        target = node.get("_target_") if isinstance(node, DictConfig) else None
        arguments = _arguments(target) if target is not None else []
        if leaf in arguments:
            continue
        keys = [str(k) for k in node if str(k) != leaf and not str(k).startswith("_")] if node else []
        keys += [a for a in arguments if a not in keys and a != "self"]
        close = difflib.get_close_matches(leaf, keys, n=1)
        found.append(
            f"{text}: {parent or 'the configuration'} has no key {leaf!r}"
            + (f" and {target} takes no argument {leaf!r}" if target else "")
            + (f"; did you mean {parent + '.' if parent else ''}{close[0]}=...?" if close else "")
            + " (a key of your own is declared in conf/ first: docs/running.md)"
        )
    return found


def _arguments(target: str) -> list[str]:
    """The constructor arguments of the class `target` names (none when it cannot be imported)."""
    import inspect

    from hydra.utils import get_class

    try:
        return list(inspect.signature(get_class(target).__init__).parameters)
    except (ImportError, AttributeError, ValueError):
        return []


def validate(cfg: DictConfig, overrides=()) -> None:
    """Raise ConfigError naming every bad key of cfg, its value and what is allowed, and every key the command
    line (`overrides`) adds that nothing reads."""
    found = added(cfg, overrides) + problems(cfg)
    if found:
        raise ConfigError("; ".join(found))


_ABSENT = object()  # a key the config does not have (finetune where a trainer has none)


def _show(value) -> str:
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value)
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "null"
    return repr(value) if isinstance(value, str) else str(value)
