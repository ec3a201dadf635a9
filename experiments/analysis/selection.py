"""Which records the paper tables may hold: those of the experiment's current protocol.

A record's configuration (its `config_hash`: everything that identifies the trial but the seed)
is compared with the one conf/ composes today for the same launch point: experiment, profile,
protocol, model, the values of the experiment's own sweep keys (task.level, ...) and the config
groups chosen at launch (pde@task.pde=bump). Equal: a row of the tables. Different: a stale
record if it was launched with nothing but those (conf/ changed since), else a run of the user's
own (another lr, a tuning trial, a script through the Python API): neither is averaged into a
table, and the report counts them and names their files. Tables therefore never mix settings,
however records reached the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from hydra.core.override_parser.types import OverrideType

from experiments.harness.config import SCHEMA, config_hash, lookup, own_overrides, parse_override
from experiments.harness.errors import first_line

SHOWN = 3  # files named per kind of record left out


class Unresolvable(Exception):
    """conf/ can no longer compose a record's launch point (an experiment or model removed)."""


class CurrentProtocol:
    """hash(record): the config_hash conf/ composes today for the record's launch point (cached
    per point: one composition per configuration, not per seed). Use as a context manager."""

    def __init__(self, conf_dir):
        self.conf_dir = str(conf_dir)
        self._hashes: dict[tuple, str | Unresolvable] = {}
        self._sweep_keys: dict[tuple, list[str]] = {}
        self._context = None

    def __enter__(self) -> CurrentProtocol:
        from hydra import initialize_config_dir

        self._context = initialize_config_dir(config_dir=self.conf_dir, version_base="1.3")
        self._context.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._context.__exit__(*exc)

    def __call__(self, record: dict) -> str:
        base = (
            f"experiment={record['experiment']}",
            f"profile={record['profile']}",
            f"protocol={record.get('protocol_name', 'paper')}",
            f"model={record['model']}",
        )
        values = {}
        for k in self.sweep_keys(base[:3]):  # a key the record's config lacks is left out of the point
            try:
                values[k] = lookup(record["config"], k)
            except KeyError:
                continue
        point = base + tuple(f"{k}={_value(v)}" for k, v in values.items()) + tuple(group_choices(record))
        point += (f"device_type={device_type_of(record)}",)  # the record's device, not the report machine's
        if point not in self._hashes:
            self._hashes[point] = self._hash(list(point))
        found = self._hashes[point]
        if isinstance(found, Unresolvable):
            raise found
        return found

    def keys_of(self, record: dict) -> list[str]:
        """The experiment's own sweep keys today, for the record's experiment, profile and protocol."""
        return self.sweep_keys(
            (
                f"experiment={record['experiment']}",
                f"profile={record['profile']}",
                f"protocol={record.get('protocol_name', 'paper')}",
            )
        )

    def sweep_keys(self, base: tuple) -> list[str]:
        if base not in self._sweep_keys:
            try:
                cfg = self._compose(list(base), hydra=True)
                params = cfg.hydra.sweeper.params or {}
                self._sweep_keys[base] = [k for k in params if k not in ("model", "seed", "seed_group")]
            except Unresolvable:
                self._sweep_keys[base] = []
        return self._sweep_keys[base]

    def _hash(self, overrides: list[str]) -> str | Unresolvable:
        from experiments.harness.runner import seeded  # the runner's own resolution, so hashes agree exactly

        try:
            cfg = self._compose(overrides + ["seed=0"])
            return config_hash(seeded(cfg, 0)[1])
        except Unresolvable as e:
            return e
        except Exception as e:  # a value that no longer resolves
            return Unresolvable(f"{' '.join(overrides)}: {first_line(e)}")

    def _compose(self, overrides: list[str], hydra: bool = False):
        from hydra import compose

        try:
            return compose(config_name="config", overrides=overrides, return_hydra_config=hydra)
        except Exception as e:  # Hydra raises several types for a config that does not compose
            raise Unresolvable(f"{' '.join(overrides)}: {first_line(e)}") from None


def device_type_of(record: dict) -> str:
    """The kind of device a record's trial ran on (records from before devices counted: the CPU)."""
    return record.get("config", {}).get("device_type", "cpu")


def group_choices(record: dict) -> list[str]:
    """The config-group choices of a record's launch (pde@task.pde=bump), beside the protocol keys."""
    out = []
    for text in record.get("overrides") or []:
        override = parse_override(text)
        if override.package is not None and override.type == OverrideType.CHANGE and not text.startswith("hydra"):
            out.append(text)
    return out


def own_settings(record: dict, sweep_keys: list[str]) -> list[str] | None:
    """The overrides of a record's launch beyond the protocol's (experiments.harness.config.own_overrides);
    None when the launch is unknown (the Python API), [] for a launch of the protocol itself."""
    overrides = record.get("overrides")
    return None if overrides is None else own_overrides(overrides, sweep_keys)


def select(
    records: list[dict],
    current: Callable[[dict], str],
    sweep_keys: Callable[[dict], list[str]] = lambda r: list(r.get("sweep_keys") or []),
    device: str | None = None,
) -> tuple[list[dict], list[str]]:
    """The records of the current protocol, and one line per kind of record left out, with why
    and which files. `current(record)` is the config_hash conf/ composes for its launch point
    (CurrentProtocol), raising Unresolvable when it cannot. Trials of one kind of device only (`device`;
    None: the kind with the most records): a GPU rounds otherwise, so its seeds never pool with a CPU's."""
    notes = []
    tuning = [r for r in records if r.get("tuning_study")]
    if tuning:
        notes.append(
            f"{len(tuning)} run(s) of tuning studies ({', '.join(sorted({r['tuning_study'] for r in tuning}))}): "
            f"they are in the tuning tables, never in the paper tables"
        )
    rest = [r for r in records if not r.get("tuning_study")]
    old = [r for r in rest if r.get("schema") != SCHEMA]
    if old:
        notes.append(
            f"{len(old)} record(s) from an older store layout (before schema {SCHEMA}): "
            f"{_files(old)}; re-run their sweeps to regenerate them"
        )
    kept, stale, own, lost = [], [], [], []
    for r in (r for r in rest if r.get("schema") == SCHEMA):
        try:
            expected = current(r)
        except Unresolvable as e:
            lost.append((r, str(e)))
            continue
        if r["config_hash"] == expected:
            kept.append(r)
        elif own_settings(r, sweep_keys(r)) == []:
            stale.append(r)
        else:
            own.append(r)
    kinds = Counter(device_type_of(r) for r in kept).most_common(1)  # the most records; ties: the first seen
    device = device or (kinds[0][0] if kinds else "cpu")
    apart = [r for r in kept if device_type_of(r) != device]
    if apart:
        kept = [r for r in kept if device_type_of(r) == device]
        others = sorted({device_type_of(r) for r in apart})
        notes.append(
            f"{len(apart)} record(s) of trials on another kind of device ({', '.join(others)}) are kept apart from "
            f"the {device} ones reported here: report them with --device {others[0]}"
        )
    if own:
        launch = next((o for r in own for o in own_settings(r, sweep_keys(r)) or []), None)
        notes.append(
            f"{len(own)} record(s) in {len({r['config_hash'] for r in own})} configuration(s) other than "
            f"the experiment's current protocol (own sweeps or the Python API"
            f"{', e.g. ' + launch if launch else ''}): {_files(own)}; they are not averaged into its tables"
        )
    if stale:
        notes.append(
            f"{len(stale)} stale record(s), run before conf/ last changed what their sweep runs: "
            f"{_files(stale)}; re-run the sweep to replace them"
        )
    if lost:
        notes.append(
            f"{len(lost)} record(s) whose launch point conf/ no longer composes: {_files([r for r, _ in lost])} "
            f"({lost[0][1]})"
        )
    return kept, notes


def _files(records: list[dict]) -> str:
    names = [f"{r['experiment']}/{r['key']}.json" for r in records[:SHOWN]]
    return ", ".join(names) + (f" and {len(records) - SHOWN} more" if len(records) > SHOWN else "")


def _value(value) -> str:
    """A resolved value as a Hydra override value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ",".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"{value!r} is not a value a JSON record holds")
