"""`python -m experiments.analysis.tuning.models fit2d`: the models `make tune` tunes for an experiment, one
per line: its lineup (conf/lineup.yaml) without the least-squares rows, which choose their widths
on validation data themselves."""

from __future__ import annotations

import sys

import yaml

from experiments.harness.env import ROOT
from experiments.harness.variants import lsq_variants


def tunable(experiment: str) -> list[str]:
    lineup = yaml.safe_load((ROOT / "conf" / "lineup.yaml").read_text())
    if experiment not in lineup:
        raise SystemExit(f"error: no experiment {experiment!r} in conf/lineup.yaml; experiments: {', '.join(lineup)}")
    return [m for m in lineup[experiment] if m not in lsq_variants()]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m experiments.analysis.tuning.models EXPERIMENT")
    print("\n".join(tunable(sys.argv[1])))
