"""Run one trial, or sweep with -m:

    python -m experiments.run experiment=fit2d                       # its default model, seed 0
    python -m experiments.run experiment=fit2d model=kan seed=3 task.level=2
    python -m experiments.run -m experiment=fit2d profile=quick      # the experiment's sweep
    python -m experiments.run experiment=fit2d seed_group=[0,1,2,3]   # four seeds, vectorised

A trial is (experiment, model, seed, config). Finished trials are found in the result store
by the hash of their config and skipped, so an interrupted sweep is completed by re-running it.
A sweep hands the seeds of one configuration to one process (`trainer.seeds_per_process`).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from datetime import datetime, timezone

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from experiments.harness.build import build
from experiments.harness.checkpoint import Checkpoint, checkpoint_path
from experiments.harness.config import SCHEMA, check_model, config_hash, is_protocol, override_key, trial_key
from experiments.harness.ensemble import train_ensemble
from experiments.harness.env import (
    ROOT,
    describe_device,
    git_commit,
    pick_device,
    pick_dtype,
    seed_everything,
    vectorize,
)
from experiments.harness.errors import ConfigError, UserError, exit_with
from experiments.harness.locks import TrialLocks, lock_path, owner
from experiments.harness.lsq import HeadSolver
from experiments.harness.schema import validate
from experiments.harness.store import ResultStore, remove_if_empty
from experiments.harness.train import Phase, train
from gmnm import count_parameters

log = logging.getLogger(__name__)


def run_trial(cfg: DictConfig, overrides: list[str] | None = None, sweep_keys: list[str] = ()) -> dict:
    """Run (or skip) the trial of cfg.seed; its record (None while another process trains it). See run_seeds."""
    return next(iter(run_seeds(cfg, [cfg.seed], overrides, sweep_keys)), None)


def run_seeds(
    cfg: DictConfig, seeds: list[int], overrides: list[str] | None = None, sweep_keys: list[str] = ()
) -> list[dict]:
    """Run (or skip) the trials of these seeds of cfg's configuration, in one process; their records.

    Several seeds train as one vectorised computation (experiments.harness.ensemble) where the model
    allows it, else one after another; either way each seed's record is the one its own trial
    would write, under its own key. `overrides` are the command-line overrides that composed cfg
    and `sweep_keys` the keys the experiment's own sweep varies; together they tell the report
    whether these trials belong to the experiment's protocol or to a sweep of the user's own.

    Each trial is claimed before it trains (experiments/harness/locks.py): a trial another live process
    holds is skipped, and has no record in the list returned.
    """
    check_model(cfg)
    validate(cfg)
    if cfg.get("protocol_name") == "tuned" and cfg.get("tuned") is None:
        raise ConfigError(
            f"protocol=tuned: no tuned values for model={cfg.model_name} in experiment="
            f"{cfg.experiment_name} under profile {cfg.profile_name} ({cfg.paths.tuned_dir}); run "
            f"make tune PROFILE={cfg.profile_name} EXPERIMENTS={cfg.experiment_name} first"
        )
    store = ResultStore(cfg.paths.store_dir)
    store.check_writable(cfg.experiment_name)  # now, not after the training
    trials = {s: seeded(cfg, s) for s in seeds}  # seed -> (cfg, resolved config, key)
    # the configuration's hash leaves the seed out, also where a value follows it (KAN's ${seed})
    group_hash = config_hash(seeded(cfg, 0)[1])
    created = [p for p in (store.root / cfg.experiment_name, store.root) if not p.exists()]
    try:
        return _claim_and_train(cfg, seeds, trials, group_hash, store, overrides, sweep_keys)
    finally:
        for folder in created:  # a run that stopped before any record leaves the store as it found it
            remove_if_empty(folder)


def _claim_and_train(
    cfg: DictConfig,
    seeds: list[int],
    trials: dict,
    group_hash: str,
    store: ResultStore,
    overrides: list[str] | None,
    sweep_keys: list[str],
) -> list[dict]:
    with TrialLocks() as locks:
        records, todo = {}, []
        for s in seeds:
            key = trials[s][2]
            if (record := store.finished(cfg.experiment_name, key)) is not None:
                log.info("skip %s/%s: already in %s", cfg.experiment_name, key, store.root)
                records[s] = record
            elif not locks.acquire(store.path(cfg.experiment_name, key)):
                who = owner(lock_path(store.path(cfg.experiment_name, key)))
                log.info(
                    "skip %s/%s: claimed by %s:%s, which is training it",
                    cfg.experiment_name,
                    key,
                    who.get("host", "?"),
                    who.get("pid", "?"),
                )
            elif (record := store.finished(cfg.experiment_name, key)) is not None:  # finished since the look
                records[s] = record
            else:
                todo.append(s)
        if todo:
            records.update(_train(cfg, todo, trials, group_hash, store, overrides, sweep_keys))
    # a seed another process was training has no record here yet: it is left out
    return [records[s] for s in seeds if records.get(s) is not None]


def _train(
    cfg: DictConfig,
    todo: list[int],
    trials: dict,
    group_hash: str,
    store: ResultStore,
    overrides: list[str] | None,
    sweep_keys: list[str],
) -> dict[int, dict]:
    """Train the trials of these seeds (claimed by this process) and store their records."""
    records = {}
    if len({json.dumps(trials[s][1]["task"], sort_keys=True) for s in todo}) > 1:
        # the data follow the seed (protocol=redrawn): one task cannot serve them all, so each seed
        # trains alone, with the task its own sequential trial builds
        for s in todo:
            records.update(_train(trials[s][0], [s], trials, group_hash, store, overrides, sweep_keys))
        return records
    device, dtype = pick_device(cfg.trainer.device), pick_dtype(cfg.trainer.dtype)
    seed_everything(todo[0])
    task = build(cfg.task, "task")
    task.setup(device, dtype)
    models = []
    for s in todo:  # each initialised from its own seed, exactly as its sequential trial is
        seed_everything(s)
        models.append(build(trials[s][0].model, f"model={cfg.model_name}").to(device=device, dtype=dtype))
    monitor = cfg.get("monitor")
    if monitor is not None and len(todo) > 1:
        raise ConfigError(f"monitor: one seed a process (it watches one run), got seeds {todo}")
    monitor = None if monitor is None else build(monitor, "monitor")
    compiled = bool(cfg.trainer.get("compile", False))
    if compiled:  # in place, so state_dict keys (checkpoints, records) are those of the eager model
        for model in models:
            model.compile()
    lsq = cfg.get("lsq")
    heads = [head_solver(cfg, model, task) for model in models]
    phases = plan(cfg)

    started = datetime.now(timezone.utc)
    commit = git_commit()  # the code this process runs; the checkout may move while it trains
    t0 = time.perf_counter()
    generators = [torch.Generator().manual_seed(s) for s in todo]
    scans = [head.select_width(list(lsq.widths)) if lsq is not None and lsq.widths else None for head in heads]
    # checkpoints are trusted only by the same code on the same machine setup (experiments/harness/checkpoint.py)
    meta = {"commit": commit, "torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(device),
            "dtype": str(dtype)}  # fmt: skip
    every = cfg.trainer.get("checkpoint_every_s")
    keys = [trials[s][2] for s in todo]
    paths = [store.path(cfg.experiment_name, key) for key in keys]
    mine = [Checkpoint(checkpoint_path(p), every, {**meta, "key": k}) for p, k in zip(paths, keys)]

    def store_record(i: int, model, result, scan, wall: float, before: float) -> None:
        records[todo[i]] = _store(cfg, task, trials, todo[i], model, result, scan, group_hash, store, overrides,
                                  sweep_keys, wall, started, commit, device, len(todo), before)  # fmt: skip
        mine[i].remove()

    vectorized = vectorize(cfg.trainer.get("vectorize", "auto"), device) and not compiled  # a stack is not compiled
    if len(todo) > 1 and lsq is None and vectorized:
        group = Checkpoint(checkpoint_path(paths[0], keys), every, {**meta, "keys": keys})
        results = train_ensemble(
            models,
            task,
            phases,
            batch_size=cfg.trainer.batch_size,
            generators=generators,
            device=device,
            progress=cfg.trainer.progress,
            checkpoint=group,
            seed_checkpoints=mine,
        )
        wall = (time.perf_counter() - t0) / len(todo)  # each seed's share of the process's time
        before = (group.trained_before_s + sum(c.trained_before_s for c in mine)) / len(todo)  # earlier processes'
        for i, (model, result, scan) in enumerate(zip(models, results, scans)):
            store_record(i, model, result, scan, wall, before)
        group.remove()
        return records
    for i, (model, g, head, scan) in enumerate(zip(models, generators, heads, scans)):
        t1 = time.perf_counter()
        result = train(
            model,
            task,
            phases,
            batch_size=cfg.trainer.batch_size,
            generator=g,
            device=device,
            progress=cfg.trainer.progress,
            head=head,
            checkpoint=mine[i],
            monitor=monitor,
        )
        # each seed's record as soon as it ends
        store_record(i, model, result, scan, time.perf_counter() - t1, mine[i].trained_before_s)
    return records


def _store(cfg, task, trials, s, model, result, scan, group_hash, store, overrides, sweep_keys, wall, started, commit,
           device, seeds_in_process, before) -> dict:  # fmt: skip
    """The record of seed s's trial, written into the store."""
    _, config, key = trials[s]
    summary = summarize(model, result, device, wall_time_s=wall, wall_time_before_s=before, started=started,
                        commit=commit, seeds_in_process=seeds_in_process,
                        compiled=bool(cfg.trainer.get("compile", False)))  # fmt: skip
    seed_overrides = (
        None
        if overrides is None
        else [o for o in overrides if override_key(o) not in ("seed", "seed_group")] + [f"seed={s}"]
    )
    record = {
        "schema": SCHEMA,
        "key": key,
        "config_hash": group_hash,
        "status": result.status,
        "experiment": cfg.experiment_name,
        "profile": cfg.profile_name,
        "model": cfg.model_name,
        "seed": s,
        "protocol_name": cfg.get("protocol_name", "paper"),
        "tuning_study": cfg.get("tuning_study"),
        # what the report shows, so it never re-composes configs or rebuilds tasks
        "label": cfg.model_label,
        "color": cfg.models[cfg.model_name],
        "lineup": list(cfg.models),
        "arch": architecture(model),
        "problem": task.title(),
        "overrides": seed_overrides,
        "sweep_keys": list(sweep_keys),
        "protocol": is_protocol(seed_overrides, sweep_keys),
        "config": {k: v for k, v in config.items() if k not in ("lineup", "seed_group")},
        "summary": summary,
        "history": result.history,
    }
    if scan is not None:  # the least-squares head's width scan: validation loss (its choice) and metrics
        record["lsq_widths"] = scan
    if hasattr(task, "artifacts"):  # small outputs a report shows, e.g. reconstructed images
        model.eval()
        record["artifacts"] = task.artifacts(model)
    path = store.put(record)
    metrics = [k[len("final_") :] for k in summary if k.startswith("final_")]
    log.info(
        "%s %s/%s model=%s seed=%d: %s -> %s",
        result.status,
        cfg.experiment_name,
        key,
        cfg.model_name,
        s,
        ", ".join(f"{m}={summary['final_' + m]:.3e}" for m in metrics),
        path,
    )
    return record


def seeded(cfg: DictConfig, seed: int) -> tuple[DictConfig, dict, str]:
    """cfg as the sequential trial of `seed` composes it (seed-dependent values re-resolved), its
    resolved container and its key in the store."""
    one = copy.deepcopy(cfg)  # deep: interpolations such as ${seed} must resolve against this copy
    with open_dict(one):
        one.seed, one.seed_group = seed, None
    config = OmegaConf.to_container(one, resolve=True)
    return one, config, trial_key(config)


def plan(cfg: DictConfig) -> list[Phase]:
    """The training phases of cfg: the trainer's (and its finetune phase, e.g. L-BFGS after Adam),
    or with the least-squares head, the one Adam phase of cfg.lsq."""
    if cfg.get("lsq") is not None:
        lsq = cfg.lsq
        return [Phase(instantiate(cfg.trainer.optimizer, lr=lsq.lr), steps=lsq.steps, eval_every=lsq.eval_every)]
    phases = [phase(cfg.trainer)]
    if cfg.trainer.get("finetune") is not None:
        phases.append(phase(cfg.trainer.finetune))
    return phases


def head_solver(cfg: DictConfig, model: torch.nn.Module, task) -> HeadSolver | None:
    """The least-squares head of model for task when cfg asks for one (cfg.lsq), else None;
    ConfigError (one line) when the model has no linear head or the task no least-squares loss."""
    if cfg.get("lsq") is None:
        return None
    try:
        return HeadSolver(model, task, cfg.lsq.rcond)
    except ValueError as e:
        raise ConfigError(f"model={cfg.model_name} with the least-squares head: {e}") from None


def phase(trainer: DictConfig) -> Phase:
    """One training phase from a trainer (or finetune) node; its optimizer is a partial over parameters."""
    return Phase(
        instantiate(trainer.optimizer),
        steps=trainer.get("steps"),
        epochs=trainer.get("epochs"),
        eval_every=trainer.get("eval_every"),
    )


def architecture(model: torch.nn.Module) -> str:
    """'GMNM(in_features=2, ...)': the module's class and its own description, for tables."""
    return f"{type(model).__name__}({model.extra_repr()})" if model.extra_repr() else type(model).__name__


def summarize(
    model,
    result,
    device,
    *,
    wall_time_s: float,
    started: datetime,
    commit: str,
    seeds_in_process: int = 1,
    wall_time_before_s: float = 0.0,
    compiled: bool = False,
) -> dict:
    """Size, cost and provenance of a trial, plus the final and the minimum of every metric."""
    metrics = [k for k in result.history[-1] if k not in ("step", "phase", "loss")]
    return {
        "n_params": count_parameters(model),
        "n_params_all": count_parameters(model, trainable_only=False),
        "steps": result.steps,
        "wall_time_s": wall_time_s,  # this process's, from started_at
        "wall_time_before_s": wall_time_before_s,  # earlier processes' of a resumed trial (their checkpoints')
        "seeds_in_process": seeds_in_process,  # > 1: trained vectorised with others; times are shares
        "ms_per_step": result.ms_per_step,
        "median_ms_per_step": result.median_ms_per_step,  # the timing claims read this (the mean is moved by load)
        "ms_per_step_phases": result.ms_per_step_phases,
        "compiled": compiled,  # trainer.compile: its step times are not an eager model's (timing claims skip it)
        "device": describe_device(device),
        "torch": torch.__version__,
        "git_commit": commit,
        "started_at": started.isoformat(timespec="seconds"),
        **{f"final_{m}": result.history[-1][m] for m in metrics},
        **{f"min_{m}": _finite_min(row[m] for row in result.history) for m in metrics},
    }


def trained_s(summary: dict) -> float:
    """A trial's whole training time: this process's and, resumed, its earlier ones' (older records lack those)."""
    return summary.get("wall_time_s", 0.0) + summary.get("wall_time_before_s", 0.0)


def _finite_min(values) -> float:
    return min((v for v in values if math.isfinite(v)), default=float("nan"))


@hydra.main(config_path=str(ROOT / "conf"), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> list[dict]:
    """One job: its records (a tuning sweeper reads their validation metrics from the return value)."""
    hydra_cfg = HydraConfig.get()
    sweep_keys = [k for k in hydra_cfg.sweeper.params or {} if k not in ("model", "seed", "seed_group")]
    try:
        check_model(cfg)  # first: a model the experiment does not take leaves interpolations unresolved
        validate(cfg)  # before the seeds are read: a wrong type fails here, with its key
        seeds = list(cfg.seed_group) if cfg.get("seed_group") else [cfg.seed]  # a group: experiments/harness/sweep.py
        return run_seeds(cfg, seeds, overrides=list(hydra_cfg.overrides.task), sweep_keys=sweep_keys)
    except UserError as e:  # one line, no traceback
        exit_with(e)


if __name__ == "__main__":
    main()
