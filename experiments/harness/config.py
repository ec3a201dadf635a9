"""What conf/ needs from Python: resolvers for profiles and sweeps, the experiment-fits-model
check, and a trial's identity.

conf/ is composed by Hydra; these resolvers are registered when `experiments` is imported, so
every entry point (runner, fetch, tests) composes the same config:

- `${per_profile:{paper:5000,quick:1000,smoke:200}}`: a value that differs by profile (data
  sizes); profiles it does not name take the `paper` value.
- `${scaled:20000}` / `${scaled:40,epochs}`: a step (or epoch) count of the paper protocol,
  scaled by the profile's `scale` (conf/profile/*.yaml): ceil(n * scale.steps), at least 1, then
  capped by scale.max_steps (max_epochs). One generic rule instead of a file per experiment.
- `${sweep_models:}` / `${sweep_seeds:}`: what `-m experiment=E` sweeps: the experiment's
  lineup (conf/lineup.yaml) and seeds 0..n-1, n = min(seeds, scale.max_seeds).
- `${image_io:mnist,channels}`: a data set's channels, size or classes (registered by
  experiments/images/specs.py, through experiments/__init__.py).
- `${mlp_shapes:2,1,[30,30]}`: hidden shapes of depth 1 to 4, each the widest whose MLP has at most
  the parameters of the given one: a depth search at the matched count (conf/model/mlp_relu.yaml).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import DictConfig, OmegaConf

from experiments.harness.errors import ConfigError

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override

# Top-level keys that say what a trial computes; everything else (paths, the lineup, display,
# sizes tables, profile scale factors, hydra) either does not change the result or is already
# reflected in these once resolved. profile_name stays: records are reported per profile.
IDENTITY = ("experiment_name", "profile_name", "protocol_name", "model_name", "seed", "task", "model", "trainer", "lsq",
            "device_type")  # fmt: skip
# Keys inside those that change where a trial runs or reads from, not what it computes.
NOT_IDENTIFYING = (
    "trainer.device",
    "trainer.progress",
    "trainer.seeds_per_process",
    "trainer.vectorize",
    "trainer.compile",
    "trainer.deterministic",  # on a CPU nothing changes; on CUDA, device_type already sets such trials apart
    "trainer.checkpoint_every_s",
    "task.root",
    "task.download",
    "task.verify",
    "task.eval_batch_size",
)
# Launch overrides that pick a trial of the experiment's own protocol (beside its sweep keys).
PROTOCOL_KEYS = ("experiment", "profile", "protocol", "model", "seed", "seed_group")
SCHEMA = 2  # record layout; records without it come from the layout before experiments were deltas


def _per_profile(values: DictConfig, *, _root_: DictConfig):
    profile = _root_.profile_name
    if profile not in values and "paper" not in values:
        raise ConfigError(f"per_profile: {dict(values)} names neither profile {profile!r} nor 'paper'")
    return values[profile] if profile in values else values["paper"]


def _scaled(n: int, kind: str = "steps", *, _root_: DictConfig) -> int:
    if kind not in ("steps", "epochs"):
        raise ConfigError(f"scaled: kind must be 'steps' or 'epochs', got {kind!r}")
    scale = _root_.scale
    value = max(1, math.ceil(n * scale.steps))
    cap = scale.get(f"max_{kind}")
    return value if cap is None else min(value, cap)


def _sweep_models(*, _root_: DictConfig) -> str:
    models = list(_root_.models)
    if _root_.get("protocol_name", "paper") == "tuned":  # the models `make tune` chose values for
        tuned_dir = Path(_root_.paths.tuned_dir) / _root_.profile_name / _root_.experiment_name
        # none tuned: the lineup, whose first run stops with one line saying what to run (experiments.run)
        models = [m for m in models if (tuned_dir / f"{m}.yaml").exists()] or models
    return ",".join(models)


def _sweep_seeds(*, _root_: DictConfig) -> str:
    n = _root_.seeds if _root_.scale.max_seeds is None else min(_root_.seeds, _root_.scale.max_seeds)
    return f"range(0,{n})"


def mlp_count(d_in: int, d_out: int, hidden: list[int]) -> int:
    """Parameters of an MLP with these hidden widths (weights and biases)."""
    widths = [d_in, *hidden, d_out]
    return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))


def _mlp_shapes(d_in: int, d_out: int, hidden) -> list[list[int]]:
    limit = mlp_count(d_in, d_out, list(hidden))
    shapes = []
    for depth in range(1, 5):
        width = 0
        while mlp_count(d_in, d_out, [width + 1] * depth) <= limit:
            width += 1
        if width:
            shapes.append([width] * depth)
    return shapes


def _device_type(name: str) -> str:
    """trainer.device -> the kind of device a trial runs on: part of its identity, since a GPU rounds otherwise.
    Never raises: the runner checks the device itself (experiments/harness/env.py)."""
    from experiments.harness.env import device_type  # torch is imported only when a config resolves it

    return device_type(name)


def _log_dir(store_dir: str, root_dir: str) -> str:
    """Hydra's job logs: the checkout's results/logs beside its default store, else the store's own logs/
    folder, so that a run into a store of the user's writes nothing into the checkout."""
    root = Path(root_dir).resolve()
    if Path(store_dir).resolve() == root / "results" / "runs":
        return str(root / "results" / "logs")
    return str(Path(store_dir) / "logs")


RESOLVERS = {
    "device_type": _device_type,
    "log_dir": _log_dir,
    "per_profile": _per_profile,
    "scaled": _scaled,
    "sweep_models": _sweep_models,
    "sweep_seeds": _sweep_seeds,
    "mlp_shapes": _mlp_shapes,
}


def register_resolvers(extra: dict | None = None) -> None:
    """The harness's resolvers, and those an experiment package adds (`extra`: name -> function)."""
    for name, fn in {**RESOLVERS, **(extra or {})}.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


def check_model(cfg: DictConfig) -> None:
    """Raise ConfigError (one line) when the chosen model is not in the experiment's lineup."""
    if cfg.model_name not in cfg.models and "lsq" in cfg:  # a least-squares-head variant (harness/variants.py)
        serves = [e for e, models in cfg.lineup.items() if cfg.model_name in models]
        raise ConfigError(
            f"experiment={cfg.experiment_name} has no least-squares head: its loss is not a least-squares "
            f"problem in the model's output; the least-squares head (model={cfg.model_name}) serves "
            f"{', '.join(serves)} (conf/lineup.yaml)"
        )
    if cfg.model_name not in cfg.models:
        raise ConfigError(
            f"experiment={cfg.experiment_name} does not take model={cfg.model_name}; its models: "
            f"{', '.join(cfg.models)} (conf/lineup.yaml lists each experiment's models)"
        )
    reads = [k for k, v in OmegaConf.to_container(cfg.model, resolve=False).items() if "${arch." in str(v)]
    if reads and OmegaConf.select(cfg, "arch", default=None) is None:
        size_of = OmegaConf.select(cfg, "size_of", default=None) or cfg.model_name
        raise ConfigError(
            f"model={cfg.model_name} reads its sizes from arch.* ({', '.join(f'model.{k}' for k in reads)}), and "
            f"experiment={cfg.experiment_name} has none for it: add sizes.{size_of} to "
            f"conf/experiment/{cfg.experiment_name}.yaml (docs/running.md, Adding a model)"
        )


def identity(config: dict, *, with_seed: bool = True) -> dict:
    """The part of a resolved config that identifies a trial (a deep copy)."""
    ident = json.loads(json.dumps({k: config[k] for k in IDENTITY if k in config}))
    if ident.get("protocol_name") == "paper":  # the default, left out: the published paper records' keys have none
        del ident["protocol_name"]
    if ident.get("device_type") == "cpu":  # likewise: a CPU trial's key is what it was before devices counted
        del ident["device_type"]
    if not with_seed:
        ident.pop("seed", None)
    for dotted in NOT_IDENTIFYING:
        parent, _, leaf = dotted.rpartition(".")
        node = lookup(ident, parent, None) if parent else ident
        if isinstance(node, dict):
            node.pop(leaf, None)
    return ident


MISSING = object()  # lookup's default: raise KeyError


def lookup(mapping: dict, dotted: str, default=MISSING):
    """mapping["a"]["b"] for "a.b": the one dotted-path getter over plain (record) dicts; `default`
    where a part is absent, KeyError naming the key when no default is given."""
    node = mapping
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is MISSING:
                raise KeyError(f"{dotted} (no {part!r})")
            return default
        node = node[part]
    return node


def digest(data: dict) -> str:
    """16 hex digits of the SHA-256 of canonical JSON."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def trial_key(config: dict) -> str:
    """A trial's key in the store: the digest of its identity."""
    return digest(identity(config))


def config_hash(config: dict) -> str:
    """The digest of everything but the seed: trials with equal hashes are seeds of one configuration.
    Values that follow the seed (KAN's `seed: ${seed}`) differ too: hash the config resolved at seed 0."""
    return digest(identity(config, with_seed=False))


@functools.lru_cache(maxsize=4096)  # a report parses every record's launch: the same strings, thousands of times
def parse_override(text: str) -> Override:
    """One command-line override as Hydra reads it: key (without +, ~ or @package), package, kind, value."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (override,) = OverridesParser.create().parse_overrides([text])
    return override


def override_key(text: str) -> str:
    return parse_override(text).key_or_group


def own_overrides(overrides: list[str], sweep_keys: list[str]) -> list[str]:
    """The launch overrides beyond the experiment's protocol: not a protocol key, one of its sweep
    keys, a path, a where-to-run key or a config-group choice (pde@task.pde=bump)."""
    allowed = set(PROTOCOL_KEYS) | set(sweep_keys) | set(NOT_IDENTIFYING)
    own = []
    for text in overrides:
        override = parse_override(text)
        key = override.key_or_group
        if key in allowed or override.package is not None or key.startswith(("hydra", "paths.")):
            continue
        own.append(text)
    return own


def is_protocol(overrides: list[str] | None, sweep_keys: list[str]) -> bool:
    """Whether launch overrides pick a trial of the experiment's protocol (its own sweep), rather
    than one with other settings (an own sweep, a tuning trial). Unknown overrides count as protocol."""
    return overrides is None or not own_overrides(overrides, sweep_keys)
