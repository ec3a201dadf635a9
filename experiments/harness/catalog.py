"""Which experiments `make reproduce` and `make tune` run, read from conf/ (nothing else lists them):

    python -m experiments.harness.catalog reproduce quick    # fit2d fit1d poisson ...
    python -m experiments.harness.catalog tune quick

The experiments are conf/lineup.yaml's, in its order. `make reproduce PROFILE=p` runs those whose
file does not leave p out (`reproduce_under`, default every profile); `make tune` those of them with
a validation metric to tune on (`tune.metric`) that are not ablations and not marked `tunable: false`.
"""

from __future__ import annotations

import sys

from experiments.harness.env import ROOT

USES = ("reproduce", "tune")


def listed(use: str, profile: str) -> list[str]:
    import yaml
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    if use not in USES:
        raise SystemExit(f"error: the first argument must be one of {', '.join(USES)}, got {use!r}")
    lineup = yaml.safe_load((ROOT / "conf" / "lineup.yaml").read_text())
    out = []
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        for name in lineup:
            cfg = compose(config_name="config", overrides=[f"experiment={name}", f"profile={profile}"])
            if profile not in cfg.get("reproduce_under", [profile]):
                continue
            tunable = (
                cfg.get("tunable", True) and not cfg.get("ablation") and not OmegaConf.is_missing(cfg.tune, "metric")
            )
            if use == "reproduce" or tunable:
                out.append(name)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m experiments.harness.catalog {reproduce,tune} PROFILE")
    import experiments.harness.config  # noqa: F401 (the package registers the resolvers conf/ uses)

    print(" ".join(listed(*sys.argv[1:])))
