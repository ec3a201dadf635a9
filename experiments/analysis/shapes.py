"""What needs a model's shapes, not its data: parameter counts of every (experiment, model) of the lineup,
measured by building the model from conf/ (no images, no training). The ledger reads them for count
claims whose experiment has no trials in the store: Table 2's and Table 4's CIFAR counts are measured here
although CIFAR itself is not on this machine.

Each count comes as a record-like dict (`measured_from: "shapes"`), so the ledger selects and reads it
like a trial's record; it never enters a table of losses.
"""

from __future__ import annotations

from pathlib import Path

from experiments.harness.env import ROOT, git_commit


def counts(experiments: list[str], conf_dir: Path = ROOT / "conf") -> list[dict]:
    """One record-like dict per (experiment, lineup model) of `experiments`: its trainable parameter count."""
    import yaml
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from gmnm import count_parameters

    lineup = yaml.safe_load((Path(conf_dir) / "lineup.yaml").read_text())
    commit, out = git_commit(), []
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        for experiment in experiments:
            for model in lineup.get(experiment, []):
                cfg = compose(config_name="config", overrides=[f"experiment={experiment}", f"model={model}",
                                                               "profile=paper"])  # fmt: skip
                n = count_parameters(instantiate(cfg.model))
                out.append({"experiment": experiment, "model": model, "seed": 0, "status": "complete",
                            "protocol_name": "paper", "lineup": list(lineup[experiment]), "measured_from": "shapes",
                            "config": {"task": {}}, "summary": {"n_params": n, "git_commit": commit,
                                                                 "device": "none (built, not trained)",
                                                                 "wall_time_s": 0.0}})  # fmt: skip
    return out
