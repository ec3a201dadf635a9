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

import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from experiments.harness.build import build
from experiments.harness.checkpoint import Checkpoint, checkpoint_path
from experiments.harness.config import SCHEMA, check_model, is_protocol
from experiments.harness.ensemble import train_ensemble
from experiments.harness.env import (
    ROOT,
    describe_device,
    git_commit,
    job_device,
    make_deterministic,
    pick_device,
    pick_dtype,
    seed_everything,
    vectorize,
)
from experiments.harness.errors import ConfigError, UserError, exit_with
from experiments.harness.group import Trial, TrialGroup, seeded  # noqa: F401 (seeded: the sweeper's and tests')
from experiments.harness.locks import TrialLocks, lock_path, owner
from experiments.harness.lsq import HeadSolver
from experiments.harness.schema import validate
from experiments.harness.store import remove_if_empty
from experiments.harness.train import Phase, TrainResult, train
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
    validate(cfg, overrides or ())
    if cfg.get("protocol_name") == "tuned" and cfg.get("tuned") is None:
        raise ConfigError(
            f"protocol=tuned: no tuned values for model={cfg.model_name} in experiment="
            f"{cfg.experiment_name} under profile {cfg.profile_name} ({cfg.paths.tuned_dir}); run "
            f"make tune PROFILE={cfg.profile_name} EXPERIMENTS={cfg.experiment_name} first"
        )
    group = TrialGroup.compose(cfg, seeds, overrides, sweep_keys)
    group.store.check_writable(group.experiment)  # now, not after the training
    created = [p for p in (group.store.root / group.experiment, group.store.root) if not p.exists()]
    try:
        return _claim_and_train(group)
    finally:
        for folder in created:  # a run that stopped before any record leaves the store as it found it
            remove_if_empty(folder)


def _claim_and_train(group: TrialGroup) -> list[dict]:
    store, experiment = group.store, group.experiment
    with TrialLocks() as locks:
        records, todo = {}, []
        for trial in group.trials:
            if (record := store.finished(experiment, trial.key)) is not None:
                log.info("skip %s/%s: already in %s", experiment, trial.key, store.root)
                records[trial.seed] = record
            elif not locks.acquire(group.path(trial)):
                who = owner(lock_path(group.path(trial)))
                log.info("skip %s/%s: claimed by %s:%s, which is training it", experiment, trial.key,
                         who.get("host", "?"), who.get("pid", "?"))  # fmt: skip
            elif (record := store.finished(experiment, trial.key)) is not None:  # finished since the look
                records[trial.seed] = record
            else:
                todo.append(trial)
        if todo:
            records.update(_train(group.only(todo)))
    # a seed another process was training has no record here yet: it is left out
    return [records[t.seed] for t in group.trials if records.get(t.seed) is not None]


def _job_number() -> int | None:
    """This sweep job's number (Hydra's), or None outside a sweep (a single run, the Python API)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    return OmegaConf.select(HydraConfig.get(), "job.num", default=None, throw_on_missing=False)


@dataclass(frozen=True)
class Process:
    """This process's making of its records: when it started, its code, its device, how many seeds it trained."""

    started: datetime
    commit: str
    device: torch.device
    seeds: int


@dataclass(frozen=True)
class Trained:
    model: torch.nn.Module
    result: TrainResult
    scan: list | None  # the least-squares head's width scan, where it ran one
    wall_s: float  # this process's training time for it (its share, when seeds trained as one computation)
    before_s: float  # earlier processes' (a trial resumed from their checkpoints)


def _train(group: TrialGroup) -> dict[int, dict]:
    """Train the group's trials (claimed by this process) and store their records; {seed: record}."""
    if not group.shares_data():
        # the data follow the seed (protocol=redrawn): one task cannot serve them all, so each seed
        # trains alone, with the task its own sequential trial builds
        return {s: r for t in group.trials for s, r in _train(group.only([t])).items()}
    cfg, trials = group.cfg, group.trials
    device, dtype = job_device(pick_device(cfg.trainer.device), _job_number()), pick_dtype(cfg.trainer.dtype)
    if cfg.trainer.get("deterministic", True):
        make_deterministic(device)
    seed_everything(trials[0].seed)
    task = build(cfg.task, "task")
    task.setup(device, dtype)
    models = []
    for t in trials:  # each initialised from its own seed, exactly as its sequential trial is
        seed_everything(t.seed)
        models.append(build(t.cfg.model, f"model={cfg.model_name}").to(device=device, dtype=dtype))
    monitor = cfg.get("monitor")
    if monitor is not None and len(trials) > 1:
        raise ConfigError(f"monitor: one seed a process (it watches one run), got seeds {[t.seed for t in trials]}")
    monitor = None if monitor is None else build(monitor, "monitor")
    compiled = bool(cfg.trainer.get("compile", False))
    if compiled:  # in place, so state_dict keys (checkpoints, records) are those of the eager model
        for model in models:
            model.compile()
    lsq = cfg.get("lsq")
    heads = [head_solver(cfg, model, task) for model in models]
    phases = plan(cfg)

    # the code this process runs (the checkout may move while it trains)
    process = Process(datetime.now(timezone.utc), git_commit(), device, len(trials))
    t0 = time.perf_counter()
    generators = [torch.Generator().manual_seed(t.seed) for t in trials]
    scans = [head.select_width(list(lsq.widths)) if lsq is not None and lsq.widths else None for head in heads]
    # checkpoints are trusted only by the same code on the same machine setup (experiments/harness/checkpoint.py)
    meta = {"commit": process.commit, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "device": describe_device(device), "dtype": str(dtype)}  # fmt: skip
    every = cfg.trainer.get("checkpoint_every_s")
    mine = [Checkpoint(checkpoint_path(group.path(t)), every, {**meta, "key": t.key}) for t in trials]
    records = {}

    def keep(i: int, trained: Trained) -> None:
        records[trials[i].seed] = _store(group, trials[i], task, trained, process)
        mine[i].remove()

    vectorized = vectorize(cfg.trainer.get("vectorize", "auto"), device) and not compiled  # a stack is not compiled
    if len(trials) > 1 and lsq is None and vectorized:
        keys = [t.key for t in trials]
        stack = Checkpoint(checkpoint_path(group.path(trials[0]), keys), every, {**meta, "keys": keys})
        results = train_ensemble(
            models,
            task,
            phases,
            batch_size=cfg.trainer.batch_size,
            generators=generators,
            device=device,
            progress=cfg.trainer.progress,
            checkpoint=stack,
            seed_checkpoints=mine,
        )
        wall = (time.perf_counter() - t0) / len(trials)  # each seed's share of the process's time
        before = (stack.trained_before_s + sum(c.trained_before_s for c in mine)) / len(trials)  # earlier processes'
        for i, (model, result, scan) in enumerate(zip(models, results, scans)):
            keep(i, Trained(model, result, scan, wall, before))
        stack.remove()
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
        keep(i, Trained(model, result, scan, time.perf_counter() - t1, mine[i].trained_before_s))
    return records


def _store(group: TrialGroup, trial: Trial, task, trained: Trained, process: Process) -> dict:
    """The record of a trial, written into the store."""
    cfg, model, result = group.cfg, trained.model, trained.result
    summary = summarize(model, result, process.device, wall_time_s=trained.wall_s, wall_time_before_s=trained.before_s,
                        started=process.started, commit=process.commit, seeds_in_process=process.seeds,
                        compiled=bool(cfg.trainer.get("compile", False)))  # fmt: skip
    launch = group.launch(trial)
    record = {
        "schema": SCHEMA,
        "key": trial.key,
        "config_hash": group.config_hash,
        "status": result.status,
        "experiment": cfg.experiment_name,
        "profile": cfg.profile_name,
        "model": cfg.model_name,
        "seed": trial.seed,
        "protocol_name": cfg.get("protocol_name", "paper"),
        "tuning_study": cfg.get("tuning_study"),
        # what the report shows, so it never re-composes configs or rebuilds tasks
        "label": cfg.model_label,
        "color": cfg.models[cfg.model_name],
        "lineup": list(cfg.models),
        "arch": architecture(model),
        "problem": task.title(),
        "overrides": launch,
        "sweep_keys": list(group.sweep_keys),
        "protocol": is_protocol(launch, list(group.sweep_keys)),
        "config": {k: v for k, v in trial.config.items() if k not in ("lineup", "seed_group")},
        "summary": summary,
        "history": result.history,
    }
    if trained.scan is not None:  # the least-squares head's width scan: validation loss (its choice) and metrics
        record["lsq_widths"] = trained.scan
    if hasattr(task, "artifacts"):  # small outputs a report shows, e.g. reconstructed images
        model.eval()
        record["artifacts"] = task.artifacts(model)
    path = group.store.put(record)
    metrics = [k[len("final_") :] for k in summary if k.startswith("final_")]
    log.info(
        "%s %s/%s model=%s seed=%d: %s -> %s",
        result.status,
        cfg.experiment_name,
        trial.key,
        cfg.model_name,
        trial.seed,
        ", ".join(f"{m}={summary['final_' + m]:.3e}" for m in metrics),
        path,
    )
    return record


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
        # as typed: an override's own ${...} (a tuning run's monitor) is text here, not resolved
        overrides = OmegaConf.to_container(hydra_cfg.overrides.task, resolve=False)
        validate(cfg, overrides)  # before the seeds are read: a wrong type fails here, with its key
        seeds = list(cfg.seed_group) if cfg.get("seed_group") else [cfg.seed]  # a group: experiments/harness/sweep.py
        return run_seeds(cfg, seeds, overrides=overrides, sweep_keys=sweep_keys)
    except UserError as e:  # one line, no traceback
        exit_with(e)


if __name__ == "__main__":
    main()
