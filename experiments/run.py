"""Run one trial, or sweep with -m:

    python -m experiments.run experiment=fit2d                       # its default model, seed 0
    python -m experiments.run experiment=fit2d model=kan seed=3 task.level=2
    python -m experiments.run -m experiment=fit2d profile=quick      # the experiment's sweep

A trial is (experiment, model, seed, config). Finished trials are found in the result store
by the hash of their config and skipped, so an interrupted sweep is completed by re-running it.
"""

from __future__ import annotations

import copy
import logging
import math
import sys
import time
from datetime import datetime, timezone

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from experiments.config import SCHEMA, ConfigError, check_model, config_hash, is_protocol, trial_key
from experiments.env import describe_device, git_commit, pick_device, pick_dtype, seed_everything
from experiments.store import ResultStore
from experiments.train import Phase, train
from gmnm import count_parameters

log = logging.getLogger(__name__)


def run_trial(cfg: DictConfig, overrides: list[str] | None = None, sweep_keys: list[str] = ()) -> dict:
    """Run (or skip) one trial. `overrides` are the command-line overrides that composed cfg and
    `sweep_keys` the keys the experiment's own sweep varies; together they tell the report
    whether this trial belongs to the experiment's protocol or to a sweep of the user's own."""
    check_model(cfg)
    config = OmegaConf.to_container(cfg, resolve=True)
    key, experiment = trial_key(config), cfg.experiment_name
    store = ResultStore(cfg.paths.store_dir)
    if store.is_finished(experiment, key):
        log.info("skip %s/%s: already in %s", experiment, key, store.root)
        return store.get(experiment, key)

    device, dtype = pick_device(cfg.trainer.device), pick_dtype(cfg.trainer.dtype)
    seed_everything(cfg.seed)
    task = instantiate(cfg.task)
    task.setup(device, dtype)
    model = instantiate(cfg.model).to(device=device, dtype=dtype)
    phases = [phase(cfg.trainer, model)]
    if cfg.trainer.get("finetune") is not None:  # optional second phase, e.g. L-BFGS after Adam
        phases.append(phase(cfg.trainer.finetune, model))

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    result = train(model, task, phases, batch_size=cfg.trainer.batch_size,
                   generator=torch.Generator().manual_seed(cfg.seed), device=device,
                   progress=cfg.trainer.progress)
    summary = summarize(model, result, device, wall_time_s=time.perf_counter() - t0, started=started)
    record = {
        "schema": SCHEMA, "key": key, "config_hash": seedless_hash(cfg), "status": result.status,
        "experiment": experiment, "profile": cfg.profile_name, "model": cfg.model_name, "seed": cfg.seed,
        # what the report shows, so it never re-composes configs or rebuilds tasks
        "label": cfg.model_label, "color": cfg.models[cfg.model_name], "lineup": list(cfg.models),
        "arch": architecture(model), "problem": task.describe(),
        "overrides": overrides, "sweep_keys": list(sweep_keys), "protocol": is_protocol(overrides, sweep_keys),
        "config": {k: v for k, v in config.items() if k != "lineup"}, "summary": summary,
        "history": result.history,
    }
    if hasattr(task, "artifacts"):  # small outputs a report shows, e.g. reconstructed images
        model.eval()
        record["artifacts"] = task.artifacts(model)
    path = store.put(record)
    metrics = [k[len("final_"):] for k in summary if k.startswith("final_")]
    log.info("%s %s/%s model=%s seed=%d: %s -> %s", result.status, experiment, key, cfg.model_name,
             cfg.seed, ", ".join(f"{m}={summary['final_' + m]:.3e}" for m in metrics), path)
    return record


def seedless_hash(cfg: DictConfig) -> str:
    """The configuration's hash without its seed, also where a value follows the seed (KAN's
    `seed: ${seed}`): the hash of the config as seed 0 resolves it."""
    at_zero = copy.deepcopy(cfg)  # deep: interpolations such as ${seed} must resolve against this copy
    with open_dict(at_zero):
        at_zero.seed = 0
    return config_hash(OmegaConf.to_container(at_zero, resolve=True))


def phase(trainer: DictConfig, model: torch.nn.Module) -> Phase:
    """One training phase from a trainer (or finetune) node: its optimizer over the trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    return Phase(instantiate(trainer.optimizer)(params), steps=trainer.get("steps"),
                 epochs=trainer.get("epochs"), eval_every=trainer.get("eval_every"))


def architecture(model: torch.nn.Module) -> str:
    """'GMNM(in_features=2, ...)': the module's class and its own description, for tables."""
    return f"{type(model).__name__}({model.extra_repr()})" if model.extra_repr() else type(model).__name__


def summarize(model, result, device, *, wall_time_s: float, started: datetime) -> dict:
    """Size, cost and provenance of a trial, plus the final and the minimum of every metric."""
    metrics = [k for k in result.history[-1] if k not in ("step", "phase", "loss")]
    return {
        "n_params": count_parameters(model),
        "n_params_all": count_parameters(model, trainable_only=False),
        "steps": result.steps,
        "wall_time_s": wall_time_s,
        "ms_per_step": result.ms_per_step,
        "ms_per_step_phases": result.ms_per_step_phases,
        "device": describe_device(device),
        "torch": torch.__version__,
        "git_commit": git_commit(),
        "started_at": started.isoformat(timespec="seconds"),
        **{f"final_{m}": result.history[-1][m] for m in metrics},
        **{f"min_{m}": _finite_min(row[m] for row in result.history) for m in metrics},
    }


def _finite_min(values) -> float:
    return min((v for v in values if math.isfinite(v)), default=float("nan"))


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    sweep_keys = [k for k in hydra_cfg.sweeper.params or {} if k not in ("model", "seed")]
    try:
        run_trial(cfg, overrides=list(hydra_cfg.overrides.task), sweep_keys=sweep_keys)
    except ConfigError as e:  # a user error: one line, no traceback
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
