"""How a profile differs from the paper's protocol, in words, per experiment: what an indicative row of the
ledger says ("trainer.steps 2,000 of 20,000; task.n_train 1,000 of 5,000"). Read from conf/ by composing
the experiment under both profiles, so it stays true when a profile or an experiment changes."""

from __future__ import annotations

from pathlib import Path

from experiments.harness.env import ROOT

KEYS = ("trainer", "task", "lsq_protocol")  # where a profile scales what a trial computes; and the seeds


def _numbers(node, prefix: str = "") -> dict[str, float]:
    """Every numeric leaf of a resolved config node, by dotted key."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            out.update(_numbers(v, f"{prefix}{k}."))
        return out
    if node is None or (isinstance(node, (int, float)) and not isinstance(node, bool)):
        return {prefix[:-1]: node}  # None: the paper's "all" (e.g. the whole training split)
    return {}


def differences(experiment: str, profile: str, conf_dir: Path = ROOT / "conf") -> str:
    """The keys whose values differ between `profile` and `paper` for the experiment's default model, as
    'key ours of paper's' joined by '; ' ('' when none differ)."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        configs = {p: compose(config_name="config", overrides=[f"experiment={experiment}", f"profile={p}"])
                   for p in (profile, "paper")}  # fmt: skip
    values = {}
    for p, cfg in configs.items():
        node = {k: OmegaConf.to_container(cfg[k], resolve=True) for k in KEYS if cfg.get(k) is not None}
        scale = cfg.scale.max_seeds
        node["seeds"] = cfg.seeds if scale is None else min(cfg.seeds, scale)
        values[p] = _numbers(node)
    ours, paper = values[profile], values["paper"]
    shown = [k for k in paper if k in ours and ours[k] != paper[k] and not k.endswith("eval_every")]  # cadence only
    return "; ".join(f"{k} {_fmt(ours[k])} of {_fmt(paper[k])}" for k in shown)


def _fmt(v: float | None) -> str:
    return "all" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:g}"
