"""Model variants composed in code rather than copied into files: `<model>_lsq`, the model with its
linear head solved by least squares every step (experiments/harness/lsq.py).

Every model of conf/model whose class exposes `linear_head()` (GMNM, the RBF network, the MLPs and
PINN) gets one, registered in Hydra's ConfigStore under the model group, so `model=gmnm_lsq` composes
without a file of its own: the base model, its display name with " (LSQ head)",
the base's sizes (`size_of`) and the experiment's `lsq_protocol`. Which experiments run them is
conf/lineup.yaml's to say.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

LSQ_SUFFIX = "_lsq"
LSQ_LABEL = "LSQ head"


@cache
def lsq_variants(conf_dir: str | None = None) -> dict[str, str]:
    """{variant name: base model} for every model of conf/model with a linear head."""
    from hydra.utils import get_class
    from omegaconf import OmegaConf

    from experiments.harness.env import ROOT

    folder = Path(conf_dir or ROOT / "conf") / "model"

    def target(name: str) -> str | None:  # the model's class, its own or the first it extends
        node = OmegaConf.load(folder / f"{name}.yaml")
        found = OmegaConf.select(node, "model._target_")
        bases = [d for d in node.get("defaults", []) if isinstance(d, str) and d != "_self_"]
        return found if isinstance(found, str) else next(filter(None, map(target, bases)), None)

    out = {}
    for path in sorted(folder.glob("*.yaml")):
        cls = target(path.stem)
        if cls is not None and hasattr(get_class(cls), "linear_head"):
            out[f"{path.stem}{LSQ_SUFFIX}"] = path.stem
    return out


@cache
def labels(conf_dir: str | None = None) -> dict[str, str]:
    """{model name: display name} of every model, variants included."""
    from omegaconf import OmegaConf

    from experiments.harness.env import ROOT

    folder = Path(conf_dir or ROOT / "conf") / "model"
    out = {p.stem: OmegaConf.load(p).get("model_label", p.stem) for p in folder.glob("*.yaml")}
    out.update({v: f"{out[base]} ({LSQ_LABEL})" for v, base in lsq_variants(conf_dir).items()})
    return out


def register_variants() -> None:
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    names = labels()
    for variant, base in lsq_variants().items():
        store.store(
            group="model",
            name=variant,
            package="_global_",
            node={
                "defaults": [base, "_self_"],
                "model_name": variant,
                "model_label": names[variant],
                "size_of": base,  # the experiment's sizes of the base model
                "lsq": "${lsq_protocol}",  # the experiment's least-squares protocol (steps, lr, widths)
            },
        )
