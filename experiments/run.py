"""Run one trial, or sweep with -m:

    python -m experiments.run experiment=fit2d model=gmnm seed=0
    python -m experiments.run -m experiment=fit2d profile=quick      # the experiment's sweep

A trial is (experiment, model, seed, config). Finished trials are found in the result store
by the hash of their config and skipped, so an interrupted sweep is completed by re-running it.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime, timezone

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from experiments.env import describe_device, git_commit, pick_device, pick_dtype, seed_everything
from experiments.store import ResultStore, trial_key
from experiments.train import train
from gmnm import count_parameters

log = logging.getLogger(__name__)


def run_trial(cfg: DictConfig, overrides: list[str] | None = None) -> dict:
    """Run (or skip) one trial. `overrides` are the command-line overrides that composed cfg;
    the report re-composes them to tell records of the current config from stale ones."""
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
    params = [p for p in model.parameters() if p.requires_grad]
    steps, eval_every = cfg.trainer.steps, cfg.trainer.eval_every
    if cfg.trainer.get("epochs") is not None:  # epoch protocols: steps follow the data and batch size
        eval_every = task.steps_per_epoch(cfg.trainer.batch_size)
        steps = cfg.trainer.epochs * eval_every
    phases = [(instantiate(cfg.trainer.optimizer)(params), steps, eval_every)]
    finetune = cfg.trainer.get("finetune")  # optional second phase, e.g. L-BFGS after Adam
    if finetune is not None:
        phases.append((instantiate(finetune.optimizer)(params), finetune.steps,
                       finetune.get("eval_every", cfg.trainer.eval_every)))

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    result = train(model, task, phases, batch_size=cfg.trainer.batch_size,
                   generator=torch.Generator().manual_seed(cfg.seed), device=device,
                   progress=cfg.trainer.progress)
    summary = summarize(model, result, device, wall_time_s=time.perf_counter() - t0, started=started)
    metrics = [k[len("final_"):] for k in summary if k.startswith("final_")]
    record = {"key": key, "status": result.status, "experiment": experiment, "overrides": overrides,
              "model": cfg.model_name, "profile": cfg.profile_name, "seed": cfg.seed,
              "config": config, "summary": summary, "history": result.history}
    if hasattr(task, "artifacts"):  # small outputs a report shows, e.g. reconstructed images
        model.eval()
        record["artifacts"] = task.artifacts(model)
    path = store.put(record)
    log.info("%s %s/%s model=%s seed=%d: %s -> %s", result.status, experiment, key, cfg.model_name,
             cfg.seed, ", ".join(f"{m}={summary['final_' + m]:.3e}" for m in metrics), path)
    return record


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
    run_trial(cfg, overrides=list(HydraConfig.get().overrides.task))


if __name__ == "__main__":
    main()
