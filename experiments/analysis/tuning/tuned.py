"""Tuned configs: the values a study chose for one (profile, experiment, model), kept as a config.

    conf/protocols/tuned/<profile>/<experiment>/<model>.yaml

is merged over the experiment's protocol by `protocol=tuned` (conf/config.yaml's defaults list),
so `make reproduce PROTOCOL=tuned` runs the seeds with it. Beside the values it holds their
provenance under `tuned:` (not part of a trial's identity): study, trials, best validation
value, profile, commit, date.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from experiments.harness.atomic import write_atomic


def path(tuned_dir: str | os.PathLike, profile: str, experiment: str, model: str) -> Path:
    return Path(tuned_dir) / profile / experiment / f"{model}.yaml"


def nest(values: dict[str, Any]) -> dict:
    """{'trainer.optimizer.lr': 0.01} -> {'trainer': {'optimizer': {'lr': 0.01}}}."""
    out: dict = {}
    for dotted, value in values.items():
        *parents, leaf = dotted.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def write(target: Path, values: dict[str, Any], provenance: dict[str, Any]) -> Path:
    """The tuned config file, written atomically (a killed tuner leaves the old file or the new one)."""
    body = {**nest(values), "tuned": provenance}
    text = (
        "# @package _global_\n"
        f"# Chosen by `make tune` ({provenance['study']}): the best of {provenance['trials']} trials on "
        f"validation data. Regenerate it with make tune; `protocol=tuned` runs with it.\n"
        + yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=110)
    )
    return write_atomic(target, text)
