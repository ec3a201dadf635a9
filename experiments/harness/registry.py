"""Where experiment families plug in: each registers once, from its package's `__init__.py`.

    register("fitting", tasks=(FitTask,), report=FittingReport())

A family is its task classes (each declares the config keys it reads and their allowed values, as
`config_keys`, which the one config check reads: experiments/harness/schema.py) and its report (its
tables, figures, glance rows and section of docs/results.md: experiments/harness/family.py). The
config check, the report and the pages find families here, from a record's or a config's
`task._target_`; nothing else lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Family:
    name: str
    tasks: tuple[type, ...]
    report: Any  # an experiments.harness.family.FamilyReport


_FAMILIES: dict[str, Family] = {}


def register(name: str, *, tasks: tuple[type, ...], report) -> Family:
    """Register a family; its task classes must declare `config_keys` (a dict of dotted key -> Rule)."""
    for task in tasks:
        if not isinstance(getattr(task, "config_keys", None), dict):
            raise TypeError(
                f"family {name!r}: task class {task.__name__} declares no config_keys (a dict of "
                f"dotted config key -> experiments.harness.schema.Rule)"
            )
    family = Family(name, tuple(tasks), report)
    known = _FAMILIES.get(name)
    if known is not None and known.tasks != family.tasks:
        raise ValueError(f"family {name!r} is registered twice, with different task classes")
    _FAMILIES[name] = family
    return family


def families() -> list[Family]:
    """The families registered so far (their packages imported), in registration order."""
    return list(_FAMILIES.values())


def family_of_task(task: type) -> Family | None:
    return next((f for f in _FAMILIES.values() if task in f.tasks), None)


def family_of_target(target: str) -> Family | None:
    """The family of a task class named by its `_target_` (imported, so its family registers)."""
    from hydra.utils import get_class

    return family_of_task(get_class(target))
