"""Grouping the seeds of one configuration into one job (the sweeper in hydra_plugins/gmnm_seed_groups).

The basic sweeper makes one job per combination of the swept values. Jobs that differ only in
their seed become one job with `seed_group=[s1, ..., sk]` (k at most the configuration's
`trainer.seeds_per_process`), which `experiments.run` trains as one vectorised computation and
stores as k records, each under the key of its own sequential trial. Configurations whose model
cannot be vectorised (a class with `vectorizable = False`) keep one seed per job. Any launcher
(basic, joblib, submitit) then runs the grouped jobs as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hydra.core.override_parser.types import Override, OverrideType

from experiments.harness.config import parse_override


def group_seeds(jobs: Sequence[Sequence[str]], group_size: Callable[[list[str]], int]) -> list[list[str]]:
    """Jobs equal but for `seed=` merged into jobs of up to group_size(overrides) seeds, in order.
    A group of one stays a plain job."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for overrides in jobs:
        parsed = [parse_override(o) for o in overrides]
        seeds = [p.get_value_element_as_str() for p in parsed if _sets_seed(p)]
        rest = tuple(o for o, p in zip(overrides, parsed) if not _sets_seed(p))
        if len(seeds) != 1:  # no single seed to group on: leave the job as it is
            groups[tuple(overrides)] = []
            continue
        groups.setdefault(rest, []).extend(seeds)
    out = []
    for rest, seeds in groups.items():
        if not seeds:
            out.append(list(rest))
            continue
        size = group_size(list(rest) + [f"seed={seeds[0]}"]) if len(seeds) > 1 else 1
        for i in range(0, len(seeds), size):
            chunk = seeds[i : i + size]
            extra = [f"seed_group=[{','.join(chunk)}]"] if len(chunk) > 1 else []
            out.append([*rest, f"seed={chunk[0]}", *extra])
    return out


def _sets_seed(override: Override) -> bool:
    """`seed=3`: a plain assignment of the seed (not a sweep, an addition or a deletion of it)."""
    return override.key_or_group == "seed" and override.type == OverrideType.CHANGE and not override.is_sweep_override()
