"""Every experiment family, found from conf/: each experiment file names its task class
(`task._target_`), and importing that class's module registers its family
(experiments/harness/registry.py). Nothing here names a family, and a family's package may live
anywhere on the path."""

from __future__ import annotations

from pathlib import Path

from experiments.harness.env import ROOT
from experiments.harness.registry import Family, families, family_of_target


def discover(conf_dir: Path = ROOT / "conf") -> list[Family]:
    """Import the task class of every experiment of conf_dir; the families registered."""
    from omegaconf import OmegaConf

    for path in sorted((Path(conf_dir) / "experiment").glob("*.yaml")):
        target = OmegaConf.select(OmegaConf.load(path), "task._target_")
        if isinstance(target, str):  # a derived experiment names none: its base's file does
            family_of_target(target)
    return families()
